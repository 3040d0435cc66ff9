// A HIS with 10,000 scheduled imaging orders over 8 days and 25 stations (≈ 50 per station per day),
// Vietnamese patient names, answering the four lookups the worklist uses from memory. The bench
// measures our C-FIND path (snapshot, matching, encoding), not a database; the HIS database itself
// is benchmarked in bench/his.
import type { ImagingHis, ImagingOrder, Patient, WorklistFilter } from '../../connectors/dicom/his-port';
import { fromHospitalParts, hospitalParts, parseDateTime, toHospitalDateTime } from '../../model/datetime';

const families = ['Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng', 'Huỳnh', 'Phan', 'Vũ', 'Võ', 'Đặng', 'Bùi', 'Đỗ', 'Hồ', 'Ngô', 'Dương', 'Lý'];
const middles = ['Văn', 'Thị', 'Đức', 'Minh', 'Ngọc', 'Thu', 'Quang', 'Hữu'];
const givens = ['An', 'Bình', 'Cường', 'Dũng', 'Giang', 'Hà', 'Hải', 'Hạnh', 'Hùng', 'Lan', 'Linh', 'Mai', 'Nam', 'Oanh', 'Phúc', 'Quỳnh', 'Sơn', 'Thảo', 'Trang', 'Yến'];
const modalities = ['CT', 'MR', 'DX', 'US', 'MG'];

export interface TenThousand {
  his: ImagingHis;
  orders: ImagingOrder[];
  stations: string[];
  today: string;
}

export function hisWith10kOrders(count = 10_000, now = new Date()): TenThousand {
  const p = hospitalParts(now);
  const stations = Array.from({ length: 25 }, (_, i) => `${modalities[i % modalities.length]}_ROOM${String(i + 1).padStart(2, '0')}`);
  const patients = new Map<string, Patient>();
  const orders: ImagingOrder[] = [];
  for (let i = 0; i < count; i++) {
    const patientId = `BN${String(1 + (i % 7000)).padStart(8, '0')}`;
    if (!patients.has(patientId)) {
      const n = i % 7000;
      const family = families[n % families.length];
      const given = `${middles[(n >> 4) % middles.length]} ${givens[(n >> 7) % givens.length]}`;
      patients.set(patientId, { id: patientId, identifiers: [{ system: 'MA_BN', value: patientId }], name: { full: `${family} ${given}`, family, given }, birthDate: `19${String(40 + (n % 60)).padStart(2, '0')}-0${1 + (n % 9)}-1${n % 9}`, sex: n % 2 ? 'male' : 'female' });
    }
    const station = stations[i % stations.length];
    const day = Math.floor(i / (count / 8)) - 1; // yesterday … six days ahead
    const minute = 7 * 60 + ((i * 7) % (10 * 60));
    const at = fromHospitalParts(p.year, p.month, p.day + day, Math.floor(minute / 60), minute % 60);
    orders.push({
      kind: 'imaging',
      id: `CD${String(i + 1).padStart(8, '0')}`,
      maLk: `LK${String(i + 1).padStart(8, '0')}`,
      patientId,
      status: 'scheduled',
      priority: i % 20 === 0 ? 'urgent' : 'routine',
      orderedAt: toHospitalDateTime(at),
      updatedAt: toHospitalDateTime(at),
      departmentCode: 'KCDHA',
      accessionNumber: `ACC${String(i + 1).padStart(8, '0')}`,
      modality: station.slice(0, 2),
      scheduledStationAeTitle: station,
      scheduledStationName: `Phòng ${station}`,
      scheduledAt: toHospitalDateTime(at),
      requestedProcedure: { code: `CDHA_${station.slice(0, 2)}`, description: `Chụp ${station.slice(0, 2)} theo chỉ định` },
    });
  }
  const inRange = (o: ImagingOrder, f: WorklistFilter) => {
    const t = parseDateTime(o.scheduledAt!).getTime();
    return (!f.from || t >= parseDateTime(f.from).getTime()) && (!f.to || t < parseDateTime(f.to).getTime());
  };
  const his: ImagingHis = {
    async scheduledImagingOrders(f: WorklistFilter = {}) {
      return orders.filter(
        (o) =>
          inRange(o, f) &&
          (!f.modality || o.modality === f.modality) &&
          (!f.stationAeTitle || o.scheduledStationAeTitle === f.stationAeTitle) &&
          (!f.patientId || o.patientId === f.patientId) &&
          (!f.accessionNumber || o.accessionNumber === f.accessionNumber) &&
          (!f.statuses || f.statuses.includes(o.status)),
      ).slice(0, f.limit ?? Infinity);
    },
    async orderByAccession(accession: string) {
      return orders.find((o) => o.accessionNumber === accession);
    },
    async patientById(id: string) {
      return patients.get(id);
    },
    async updateOrderStatus() {},
  };
  return { his, orders, stations, today: `${p.year}${String(p.month).padStart(2, '0')}${String(p.day).padStart(2, '0')}` };
}
