// The canonical model every connector speaks: HL7, ASTM, DICOM, claims and IoMT map to and from
// these types, and the HIS connector maps them to each hospital's tables through a YAML mapping.
export * from './common';
export * from './identifiers';
export * from './patient';
export * from './visit';
export * from './order';
export * from './result';
export * from './observation';
export * from './billing';
export * from './visit-documents';
export * from './organisation';
export * from './datetime';
