// The mapping entities of the documents a visit produces (model/visit-documents.ts): referral
// letter, birth and leave certificates, HIV care and TB treatment records, medical assessment. Each
// is optional in a mapping (a HIS without the table simply has none). For each canonical field: how
// the column is read. `staff` columns hold a staff id and become a StaffRef (field name without "Id").
export type DocumentFieldKind = 'text' | 'code' | 'date' | 'dateTime' | 'int' | 'bool' | 'staff';

export interface DocumentEntitySpec {
  /** Fields the mapping must give a column. */
  required: readonly string[];
  fields: Readonly<Record<string, DocumentFieldKind>>;
}

export const DOCUMENT_ENTITIES = {
  referral: {
    required: ['maLk', 'letterNumber', 'toFacility', 'reasonCode', 'issuedAt'],
    fields: {
      maLk: 'text', letterNumber: 'text', recordNumber: 'text', bookNumber: 'text', toFacility: 'text', reasonCode: 'code', clinicalSigns: 'text',
      courseSummary: 'text', resultSummary: 'text', conditionAtTransfer: 'text', treatmentPlan: 'text', transport: 'text', escortName: 'text',
      escortTitle: 'text', doctorId: 'staff', issuedAt: 'dateTime',
    },
  },
  birthCertificate: {
    required: ['maLk', 'number', 'childSex', 'weightGrams', 'bornAt'],
    fields: {
      maLk: 'text', number: 'text', book: 'text', issuedOn: 'date', motherSocialInsuranceNumber: 'text', motherCardNumber: 'text', motherIdNumber: 'text',
      motherIdIssuedOn: 'date', motherIdIssuedBy: 'text', fatherName: 'text', childName: 'text', childSex: 'code', babiesInBirth: 'int',
      deliveryNumber: 'int', livingChildren: 'int', weightGrams: 'int', bornAt: 'dateTime', placeOfBirth: 'text', childCondition: 'text',
      caesarean: 'bool', under32Weeks: 'bool', note: 'text', attendant: 'text', recordedBy: 'text', temporaryCardNumber: 'text',
    },
  },
  leaveCertificate: {
    required: ['maLk', 'kind', 'number', 'from', 'to'],
    fields: {
      maLk: 'text', kind: 'code', serial: 'text', number: 'text', visitDocumentNumber: 'text', employer: 'text', socialInsuranceNumber: 'text',
      diagnosis: 'text', from: 'date', to: 'date', days: 'int', pregnancyTerminated: 'bool', terminationCause: 'text', gestationWeeks: 'int',
      fatherName: 'text', motherName: 'text', temporaryCardNumber: 'text', signerId: 'staff', issuedOn: 'date',
    },
  },
  hivCare: {
    required: ['maLk', 'regimen'],
    fields: {
      maLk: 'text', confirmedOn: 'date', sampleFacility: 'text', confirmingFacility: 'text', arvStartFacility: 'text', arvStartedOn: 'date',
      initialRegimen: 'text', initialRegimenLine: 'code', enrolmentReasonCode: 'code', tbTreatmentTypeCode: 'code', tbScreeningCode: 'code',
      tbRegimenCode: 'code', tbStartedOn: 'date', tbEndedOn: 'date', tbResultCode: 'code', viralLoadReasonCode: 'code', viralLoadSampledOn: 'date',
      viralLoadResultCode: 'code', viralLoadResultOn: 'date', patientTypeCode: 'code', clinicalStage: 'code', populationGroupCode: 'code',
      statusCodes: 'text', pcrRound: 'code', pcrOn: 'date', pcrResultOn: 'date', pcrResultCode: 'code', pregnancyNotedOn: 'date',
      cotrimoxazoleStartedOn: 'date', managementCodes: 'text', treatmentFrom: 'date', treatmentTo: 'date', regimen: 'text', regimenLine: 'code',
      arvDaysDispensed: 'int', regimenChangedOn: 'date', regimenChangeReasonCode: 'code',
    },
  },
  tbTreatment: {
    required: ['maLk', 'startedOn', 'regimenCode'],
    fields: {
      maLk: 'text', siteCode: 'code', historyCode: 'code', hivStatusCode: 'code', bacteriologyCode: 'code', resistanceCode: 'code',
      treatmentTypeCode: 'code', startedOn: 'date', regimenCode: 'code', endedOn: 'date', resultCode: 'code', hivConfirmedOn: 'date',
      arvStartedOn: 'date', cotrimoxazoleStartedOn: 'date',
    },
  },
  medicalAssessment: {
    required: ['maLk', 'meetingOn', 'minutesNumber'],
    fields: {
      maLk: 'text', chair: 'text', chairRoleCode: 'code', meetingOn: 'date', idIssuedOn: 'date', idIssuedBy: 'text', socialInsuranceNumber: 'text',
      occupation: 'text', subjectCategoryCode: 'text', assessmentTypeCode: 'code', minutesNumber: 'text', previousRate: 'int',
      benefitRegimeCode: 'text', documentDate: 'date', referralLetterNumber: 'text', requestedOn: 'date', referringUnitCode: 'text',
      referringUnitName: 'text', examinationResult: 'text', legalBasis: 'text', newRate: 'int', totalRate: 'int', disabilityTypeCode: 'code',
      disabilitySeverityCode: 'code', recommendation: 'text', determination: 'text',
    },
  },
} as const satisfies Record<string, DocumentEntitySpec>;

export type DocumentEntityName = keyof typeof DOCUMENT_ENTITIES;
export const documentEntityNames = Object.keys(DOCUMENT_ENTITIES) as DocumentEntityName[];
