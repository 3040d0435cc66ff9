// Studies as the DICOM side knows them: the running `dicom` sources (connectors/dicom) index every
// received study and render a PNG thumbnail when it completes. The EMR asks them by accession or
// Study Instance UID; without a DICOM node (or before the study arrived) it shows the study metadata
// from the report alone.
import fs from 'node:fs';
import { dicomNodes } from '../connectors/dicom/source';
import type { StudyRow } from '../connectors/dicom/storage/index-db';
import type { StudySummary } from './types';

export interface KnownStudy extends StudySummary {
  accessionNumber?: string;
  /** Absolute path of the PNG thumbnail, when one was rendered. */
  thumbnailFile?: string;
  /** The DICOM channel that holds it. */
  channelId: string;
}

export interface StudyLookup {
  byAccession(accessionNumber: string): KnownStudy | undefined;
  byUid(studyInstanceUid: string): KnownStudy | undefined;
}

function dicomDate(date: string | null, time: string | null): string | undefined {
  if (!date || !/^\d{8}$/.test(date)) return undefined;
  const t = (time ?? '').replace(/\D/g, '').padEnd(6, '0').slice(0, 6);
  return `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${t.slice(0, 2)}:${t.slice(2, 4)}:${t.slice(4, 6)}+07:00`;
}

/** Looks studies up in every running DICOM node of this engine. */
export function dicomStudyLookup(): StudyLookup {
  const describe = (channelId: string, node: NonNullable<ReturnType<typeof dicomNodes.get>>, row: StudyRow): KnownStudy => {
    const counts = node.index.counts(row.study_uid);
    const thumbnail = row.thumbnail ? node.store.absolute(row.thumbnail) : undefined;
    return {
      studyInstanceUid: row.study_uid,
      accessionNumber: row.accession ?? undefined,
      modality: row.modality ?? undefined,
      description: row.study_description ?? undefined,
      startedAt: dicomDate(row.study_date, row.study_time),
      seriesCount: counts.series,
      instanceCount: counts.instances,
      thumbnailFile: thumbnail && fs.existsSync(thumbnail) ? thumbnail : undefined,
      channelId,
    };
  };
  return {
    byAccession(accessionNumber) {
      for (const [channelId, node] of dicomNodes) {
        const rows = node.index.studiesByAccession(accessionNumber);
        if (rows.length > 0) return describe(channelId, node, rows[rows.length - 1]);
      }
      return undefined;
    },
    byUid(studyInstanceUid) {
      for (const [channelId, node] of dicomNodes) {
        const row = node.index.study(studyInstanceUid);
        if (row) return describe(channelId, node, row);
      }
      return undefined;
    },
  };
}
