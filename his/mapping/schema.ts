// The YAML mapping between the canonical model and one hospital's tables: for each kind of record,
// the table, optional discriminator and joins, which column holds each canonical field, and how
// stored values (status codes, sex codes…) translate. Validated with zod so a typo names its path.
import { z } from 'zod';
import { DOCUMENT_ENTITIES } from './visit-documents';

const ident = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a table or column name: letters, digits and _');
/**
 * `COLUMN` on the entity's own table, or `join.COLUMN` on a joined one; `A|B` reads the first
 * non-null of several columns (read-only: such a field is never written).
 */
const columnRef = z
  .string()
  .regex(/^(([A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*)(\|([A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*)*$/, 'COLUMN, join.COLUMN or A|B');
const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);

const joinSchema = z.object({
  name: ident,
  table: ident,
  /** LEFT JOIN `table` AS name ON name.<value> = t.<key>, for each pair. */
  on: z.record(ident, ident).refine((o) => Object.keys(o).length > 0, 'at least one column pair'),
});

/** A table mapping whose `columns` may only use the given field names. */
function entity<const R extends readonly string[], const O extends readonly string[]>(required: R, optional: O) {
  const known = new Set<string>([...required, ...optional]);
  return z
    .object({
      table: ident,
      /** Rows of this kind are those where every listed column equals the value (also written on insert). */
      where: z.record(ident, scalar).default({}),
      joins: z.array(joinSchema).default([]),
      columns: z.record(z.string(), columnRef),
      /** Stored value → canonical value, per field (e.g. status `5` → `completed`). */
      values: z.record(z.string(), z.record(z.string(), z.string())).default({}),
      /** Constants written on insert besides `where` (e.g. a facility id column). */
      insertDefaults: z.record(ident, scalar).default({}),
    })
    .superRefine((m, ctx) => {
      for (const field of Object.keys(m.columns)) {
        if (!known.has(field)) ctx.addIssue({ code: 'custom', path: ['columns', field], message: `unknown field "${field}"; known: ${[...known].join(', ')}` });
      }
      for (const field of required) {
        if (!m.columns[field]) ctx.addIssue({ code: 'custom', path: ['columns', field], message: `required field "${field}" is not mapped to a column` });
      }
      const joinNames = new Set(m.joins.map((j) => j.name));
      for (const [field, refs] of Object.entries(m.columns)) {
        for (const ref of refs.split('|')) {
          const dot = ref.indexOf('.');
          if (dot > 0 && !joinNames.has(ref.slice(0, dot))) {
            ctx.addIssue({ code: 'custom', path: ['columns', field], message: `"${ref}" names join "${ref.slice(0, dot)}", which is not declared in joins` });
          }
        }
      }
      for (const field of Object.keys(m.values)) {
        if (!known.has(field)) ctx.addIssue({ code: 'custom', path: ['values', field], message: `unknown field "${field}"` });
      }
    });
}

export const entityFields = {
  facility: [['code', 'name'], ['level', 'provinceCode']],
  department: [['code', 'name', 'bhytCode'], ['kind']],
  staff: [['id', 'fullName'], ['role', 'title', 'practisingCertificate', 'socialInsuranceNumber', 'departmentCode', 'active']],
  patient: [
    ['id', 'fullName', 'birthDate', 'sex'],
    [
      'family', 'given', 'birthTime', 'cccd', 'cmnd', 'passport', 'bhxh', 'bhytCard', 'addressLine', 'communeCode', 'communeName',
      'districtCode', 'districtName', 'provinceCode', 'provinceName', 'addressText', 'phone', 'nationalityCode', 'ethnicityCode',
      'occupationCode', 'bloodGroup',
    ],
  ],
  visit: [
    ['maLk', 'patientId', 'kind', 'admittedAt', 'departmentCode'],
    [
      'careTypeCode', 'inpatientAdmittedAt', 'dischargedAt', 'bhytDepartmentCodes', 'reason', 'admissionDiagnosisText',
      'dischargeDiagnosisText', 'outcomeCode', 'dischargeTypeCode', 'weightKg', 'medicalRecordNumber', 'attendingId', 'paidAt',
      'followUpDate', 'procedureCodes', 'bhytCard', 'cardValidFrom', 'cardValidTo', 'registeredFacility', 'route', 'cardBenefitLevel',
      'benefitLevel', 'categoryCode', 'areaCode', 'fiveConsecutiveYearsFrom', 'coPaymentExemptFrom', 'referredFrom', 'referralNumber',
    ],
  ],
  diagnosis: [['maLk', 'icd10', 'primary'], ['text', 'stage']],
  labOrder: [
    ['id', 'maLk', 'patientId', 'status', 'orderedAt', 'updatedAt', 'departmentCode', 'specimenId'],
    ['priority', 'version', 'orderingStaffId', 'clinicalInfo', 'specimenType', 'collectedAt', 'receivedAt', 'analyserId', 'updatedBy'],
  ],
  labOrderTest: [['orderId', 'hisServiceCode'], ['name', 'status', 'bhytServiceCode']],
  imagingOrder: [
    ['id', 'maLk', 'patientId', 'status', 'orderedAt', 'updatedAt', 'departmentCode', 'accessionNumber', 'modality', 'procedureCode'],
    [
      'priority', 'version', 'orderingStaffId', 'clinicalInfo', 'stationAeTitle', 'stationName', 'scheduledAt', 'procedureDescription',
      'bhytServiceCode', 'bodyPart', 'studyInstanceUid', 'updatedBy', 'imageCount', 'seriesCount', 'viewerUrl',
    ],
  ],
  labResult: [
    ['orderId', 'code', 'value', 'status', 'observedAt'],
    [
      'id', 'hisServiceCode', 'loinc', 'name', 'valueType', 'unit', 'referenceLow', 'referenceHigh', 'referenceText', 'abnormalFlag',
      'resultedAt', 'deviceId', 'operator', 'verifiedBy', 'comment', 'messageKey',
    ],
  ],
  imagingReport: [
    ['orderId', 'findings', 'conclusion', 'status', 'reportedAt'],
    ['id', 'accessionNumber', 'radiologistId', 'studyInstanceUid', 'messageKey'],
  ],
  vital: [['patientId', 'code', 'value', 'effectiveAt'], ['id', 'maLk', 'unit', 'deviceId', 'location', 'status']],
  billing: [
    ['maLk', 'lineNo', 'maNhom', 'name', 'quantity', 'unitPrice'],
    [
      'kind', 'bhytCode', 'hisCode', 'unit', 'bhytUnitPrice', 'scope', 'coverageRatio', 'serviceRatio', 'benefitLevel', 'hospitalAmount',
      'insuranceAmount', 'fundAmount', 'coPaymentAmount', 'selfPayAmount', 'otherSourcesAmount', 'paymentMethodCode', 'bhytDepartmentCode',
      'departmentCode', 'orderingStaffId', 'performerIds', 'orderedAt', 'performedAt', 'resultAt', 'icd10', 'bedCode', 'machineCode',
      'orderId', 'strength', 'routeCode', 'dosageForm', 'dosage', 'instructions', 'registrationNumber', 'tender', 'fundingSourceCode',
    ],
  ],
} as const;

type Fields = typeof entityFields;
const e = <K extends keyof Fields>(k: K) => entity(entityFields[k][0], entityFields[k][1]);
/** A visit-document entity (his/mapping/visit-documents.ts); all of them are optional in a mapping. */
const doc = <K extends keyof typeof DOCUMENT_ENTITIES>(k: K) => entity(DOCUMENT_ENTITIES[k].required, Object.keys(DOCUMENT_ENTITIES[k].fields)).optional();

export const billingSourceSchema = e('billing').and(
  z.object({
    /** Fixed line kind for a table holding one kind only (e.g. a drug-lines table). */
    kind: z.enum(['drug', 'service', 'supply', 'bed']).optional(),
  }),
);

/** Lab code map entries: analyser test code ↔ HIS service code ↔ LOINC (+ unit). */
export const codeMapsSchema = z
  .object({
    /** Relative paths (from the mapping file) of code-map YAML files to load. */
    files: z.array(z.string()).default([]),
  })
  .default({ files: [] });

export const mappingSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    description: z.string().optional(),
    /** How naive date-times in the database are read: hospital local time (the only supported value). */
    timezone: z.literal('+07:00').default('+07:00'),
    /** Used when the schema has no facility table. */
    facility: z
      .object({ code: z.string().length(5), name: z.string(), level: z.enum(['central', 'province', 'district', 'commune']).optional(), provinceCode: z.string().optional() })
      .optional(),
    codeMaps: codeMapsSchema,
    entities: z.object({
      facility: e('facility').optional(),
      department: e('department'),
      staff: e('staff'),
      patient: e('patient'),
      visit: e('visit'),
      diagnosis: e('diagnosis'),
      labOrder: e('labOrder'),
      labOrderTest: e('labOrderTest'),
      imagingOrder: e('imagingOrder'),
      labResult: e('labResult'),
      imagingReport: e('imagingReport'),
      vital: e('vital'),
      billing: z.array(billingSourceSchema).min(1),
      referral: doc('referral'),
      birthCertificate: doc('birthCertificate'),
      leaveCertificate: doc('leaveCertificate'),
      hivCare: doc('hivCare'),
      tbTreatment: doc('tbTreatment'),
      medicalAssessment: doc('medicalAssessment'),
    }),
  })
  .superRefine((m, ctx) => {
    if (!m.facility && !m.entities.facility) ctx.addIssue({ code: 'custom', path: ['facility'], message: 'give either facility (static) or entities.facility (a table)' });
    m.entities.billing.forEach((b, i) => {
      if (!b.kind && !b.columns.kind) ctx.addIssue({ code: 'custom', path: ['entities', 'billing', i, 'kind'], message: 'give a fixed kind or map columns.kind' });
    });
  });

export type HisMapping = z.infer<typeof mappingSchema>;
export type EntityMapping = Omit<z.infer<ReturnType<typeof e>>, never>;
export type EntityName = Exclude<keyof HisMapping['entities'], 'billing'>;
