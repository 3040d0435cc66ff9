// CLSI LIS2-A2 (ASTM E1394) record and field names, for the console's message tree. Field n of a
// record is `fields[n - 1]` (field 1 is the record type id).

export const astmRecords: Record<string, { name: string; fields: string[] }> = {
  H: {
    name: 'Message Header',
    fields: [
      'Record Type ID', 'Delimiter Definition', 'Message Control ID', 'Access Password', 'Sender Name or ID', 'Sender Street Address', 'Reserved Field',
      'Sender Telephone Number', 'Characteristics of Sender', 'Receiver ID', 'Comment or Special Instructions', 'Processing ID', 'Version Number',
      'Date and Time of Message',
    ],
  },
  P: {
    name: 'Patient Information',
    fields: [
      'Record Type ID', 'Sequence Number', 'Practice Assigned Patient ID', 'Laboratory Assigned Patient ID', 'Patient ID No. 3', 'Patient Name',
      "Mother's Maiden Name", 'Birthdate', 'Patient Sex', 'Patient Race-Ethnic Origin', 'Patient Address', 'Reserved Field', 'Patient Telephone Number',
      'Attending Physician ID', 'Special Field 1', 'Special Field 2', 'Patient Height', 'Patient Weight', "Patient's Known or Suspected Diagnosis",
      'Patient Active Medications', "Patient's Diet", 'Practice Field No. 1', 'Practice Field No. 2', 'Admission and Discharge Dates', 'Admission Status',
      'Location', 'Nature of Alternative Diagnostic Code and Classifiers', 'Alternative Diagnostic Code and Classification', 'Patient Religion',
      'Marital Status', 'Isolation Status', 'Language', 'Hospital Service', 'Hospital Institution', 'Dosage Category',
    ],
  },
  O: {
    name: 'Test Order',
    fields: [
      'Record Type ID', 'Sequence Number', 'Specimen ID', 'Instrument Specimen ID', 'Universal Test ID', 'Priority', 'Requested/Ordered Date and Time',
      'Specimen Collection Date and Time', 'Collection End Time', 'Collection Volume', 'Collector ID', 'Action Code', 'Danger Code',
      'Relevant Clinical Information', 'Date/Time Specimen Received', 'Specimen Descriptor', 'Ordering Physician', "Physician's Telephone Number",
      'User Field No. 1', 'User Field No. 2', 'Laboratory Field No. 1', 'Laboratory Field No. 2', 'Date/Time Results Reported or Last Modified',
      'Instrument Charge to Computer System', 'Instrument Section ID', 'Report Types', 'Reserved Field', 'Location of Specimen Collection',
      'Nosocomial Infection Flag', 'Specimen Service', 'Specimen Institution',
    ],
  },
  R: {
    name: 'Result',
    fields: [
      'Record Type ID', 'Sequence Number', 'Universal Test ID', 'Data or Measurement Value', 'Units', 'Reference Ranges', 'Result Abnormal Flags',
      'Nature of Abnormality Testing', 'Result Status', 'Date of Change in Instrument Normative Values or Units', 'Operator Identification',
      'Date/Time Test Started', 'Date/Time Test Completed', 'Instrument Identification',
    ],
  },
  C: { name: 'Comment', fields: ['Record Type ID', 'Sequence Number', 'Comment Source', 'Comment Text', 'Comment Type'] },
  Q: {
    name: 'Request Information (Query)',
    fields: [
      'Record Type ID', 'Sequence Number', 'Starting Range ID Number', 'Ending Range ID Number', 'Universal Test ID', 'Nature of Request Time Limits',
      'Beginning Request Results Date and Time', 'Ending Request Results Date and Time', 'Requesting Physician Name', 'Requesting Physician Telephone Number',
      'User Field No. 1', 'User Field No. 2', 'Request Information Status Codes',
    ],
  },
  L: { name: 'Message Terminator', fields: ['Record Type ID', 'Sequence Number', 'Termination Code'] },
  M: { name: 'Manufacturer Information', fields: ['Record Type ID', 'Sequence Number'] },
  S: { name: 'Scientific', fields: ['Record Type ID', 'Sequence Number'] },
};

/** Components of the Universal Test ID (O-5, R-3, Q-5): the manufacturer's code is the 4th. */
export const universalTestIdComponents = ['Universal Test ID Code', 'Universal Test ID Name', 'Universal Test ID Type', "Manufacturer's Local Code", 'Dilution/Treatment', 'Replicate/Extra'];

export function astmFieldName(recordType: string, field: number): string | undefined {
  return astmRecords[recordType]?.fields[field - 1];
}

export function astmComponentName(recordType: string, field: number, component: number): string | undefined {
  const isTestId = (recordType === 'O' && field === 5) || (recordType === 'R' && field === 3) || (recordType === 'Q' && field === 5);
  if (isTestId) return universalTestIdComponents[component - 1];
  if (recordType === 'P' && field === 6) return ['Last Name', 'First Name', 'Middle Name', 'Suffix', 'Title'][component - 1];
  if (recordType === 'H' && field === 5) return ['Sender Name', 'Software Version', 'Serial Number', 'Interface Version'][component - 1];
  if (recordType === 'Q' && (field === 3 || field === 4)) return ['Patient ID', 'Specimen ID', 'Sequence/Rack', 'Position', 'Sample Type'][component - 1];
  return undefined;
}
