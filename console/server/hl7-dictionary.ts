// HL7 v2.5.1 names of the segments, fields and data-type components the hospital interfaces use
// (ADT, ORM/OML, ORU/OUL, ACK, QBP/RSP), for the console's message tree. Each field is
// "Name:DataType"; a component of a known data type gets its name from `dataTypes`. A field this
// table lacks takes its name from the HL7 codec's own dictionary (connectors/hl7/codec/dictionary.ts,
// names only); anything in neither is still shown, by position only.
import { fieldName } from '../../connectors/hl7/codec/dictionary';

export const segmentNames: Record<string, { name: string; fields: string[] }> = {
  MSH: {
    name: 'Message Header',
    fields: [
      'Field Separator:ST', 'Encoding Characters:ST', 'Sending Application:HD', 'Sending Facility:HD', 'Receiving Application:HD',
      'Receiving Facility:HD', 'Date/Time of Message:TS', 'Security:ST', 'Message Type:MSG', 'Message Control ID:ST', 'Processing ID:PT',
      'Version ID:VID', 'Sequence Number:NM', 'Continuation Pointer:ST', 'Accept Acknowledgment Type:ID', 'Application Acknowledgment Type:ID',
      'Country Code:ID', 'Character Set:ID', 'Principal Language of Message:CE', 'Alternate Character Set Handling Scheme:ID', 'Message Profile Identifier:EI',
    ],
  },
  BHS: { name: 'Batch Header', fields: ['Batch Field Separator:ST', 'Batch Encoding Characters:ST', 'Batch Sending Application:HD', 'Batch Sending Facility:HD', 'Batch Receiving Application:HD', 'Batch Receiving Facility:HD', 'Batch Creation Date/Time:TS', 'Batch Security:ST', 'Batch Name/ID/Type:ST', 'Batch Comment:ST', 'Batch Control ID:ST', 'Reference Batch Control ID:ST'] },
  FHS: { name: 'File Header', fields: ['File Field Separator:ST', 'File Encoding Characters:ST', 'File Sending Application:HD', 'File Sending Facility:HD', 'File Receiving Application:HD', 'File Receiving Facility:HD', 'File Creation Date/Time:TS', 'File Security:ST', 'File Name/ID:ST', 'File Header Comment:ST', 'File Control ID:ST', 'Reference File Control ID:ST'] },
  BTS: { name: 'Batch Trailer', fields: ['Batch Message Count:ST', 'Batch Comment:ST', 'Batch Totals:NM'] },
  FTS: { name: 'File Trailer', fields: ['File Batch Count:NM', 'File Trailer Comment:ST'] },
  SFT: { name: 'Software Segment', fields: ['Software Vendor Organization:XON', 'Software Certified Version or Release Number:ST', 'Software Product Name:ST', 'Software Binary ID:ST', 'Software Product Information:TX', 'Software Install Date:TS'] },
  EVN: { name: 'Event Type', fields: ['Event Type Code:ID', 'Recorded Date/Time:TS', 'Date/Time Planned Event:TS', 'Event Reason Code:IS', 'Operator ID:XCN', 'Event Occurred:TS', 'Event Facility:HD'] },
  PID: {
    name: 'Patient Identification',
    fields: [
      'Set ID - PID:SI', 'Patient ID:CX', 'Patient Identifier List:CX', 'Alternate Patient ID - PID:CX', 'Patient Name:XPN', "Mother's Maiden Name:XPN",
      'Date/Time of Birth:TS', 'Administrative Sex:IS', 'Patient Alias:XPN', 'Race:CE', 'Patient Address:XAD', 'County Code:IS', 'Phone Number - Home:XTN',
      'Phone Number - Business:XTN', 'Primary Language:CE', 'Marital Status:CE', 'Religion:CE', 'Patient Account Number:CX', 'SSN Number - Patient:ST',
      "Driver's License Number - Patient:DLN", "Mother's Identifier:CX", 'Ethnic Group:CE', 'Birth Place:ST', 'Multiple Birth Indicator:ID', 'Birth Order:NM',
      'Citizenship:CE', 'Veterans Military Status:CE', 'Nationality:CE', 'Patient Death Date and Time:TS', 'Patient Death Indicator:ID',
      'Identity Unknown Indicator:ID', 'Identity Reliability Code:IS', 'Last Update Date/Time:TS', 'Last Update Facility:HD', 'Species Code:CE',
      'Breed Code:CE', 'Strain:ST', 'Production Class Code:CE', 'Tribal Citizenship:CWE',
    ],
  },
  PD1: { name: 'Patient Additional Demographic', fields: ['Living Dependency:IS', 'Living Arrangement:IS', 'Patient Primary Facility:XON', 'Patient Primary Care Provider Name & ID No.:XCN', 'Student Indicator:IS', 'Handicap:IS', 'Living Will Code:IS', 'Organ Donor Code:IS', 'Separate Bill:ID', 'Duplicate Patient:CX', 'Publicity Code:CE', 'Protection Indicator:ID'] },
  NK1: { name: 'Next of Kin / Associated Parties', fields: ['Set ID - NK1:SI', 'Name:XPN', 'Relationship:CE', 'Address:XAD', 'Phone Number:XTN', 'Business Phone Number:XTN', 'Contact Role:CE', 'Start Date:DT', 'End Date:DT', 'Next of Kin / Associated Parties Job Title:ST', 'Next of Kin / Associated Parties Job Code/Class:JCC', 'Next of Kin / Associated Parties Employee Number:CX', 'Organization Name - NK1:XON'] },
  PV1: {
    name: 'Patient Visit',
    fields: [
      'Set ID - PV1:SI', 'Patient Class:IS', 'Assigned Patient Location:PL', 'Admission Type:IS', 'Preadmit Number:CX', 'Prior Patient Location:PL',
      'Attending Doctor:XCN', 'Referring Doctor:XCN', 'Consulting Doctor:XCN', 'Hospital Service:IS', 'Temporary Location:PL', 'Preadmit Test Indicator:IS',
      'Re-admission Indicator:IS', 'Admit Source:IS', 'Ambulatory Status:IS', 'VIP Indicator:IS', 'Admitting Doctor:XCN', 'Patient Type:IS', 'Visit Number:CX',
      'Financial Class:FC', 'Charge Price Indicator:IS', 'Courtesy Code:IS', 'Credit Rating:IS', 'Contract Code:IS', 'Contract Effective Date:DT',
      'Contract Amount:NM', 'Contract Period:NM', 'Interest Code:IS', 'Transfer to Bad Debt Code:IS', 'Transfer to Bad Debt Date:DT', 'Bad Debt Agency Code:IS',
      'Bad Debt Transfer Amount:NM', 'Bad Debt Recovery Amount:NM', 'Delete Account Indicator:IS', 'Delete Account Date:DT', 'Discharge Disposition:IS',
      'Discharged to Location:DLD', 'Diet Type:CE', 'Servicing Facility:IS', 'Bed Status:IS', 'Account Status:IS', 'Pending Location:PL',
      'Prior Temporary Location:PL', 'Admit Date/Time:TS', 'Discharge Date/Time:TS', 'Current Patient Balance:NM', 'Total Charges:NM', 'Total Adjustments:NM',
      'Total Payments:NM', 'Alternate Visit ID:CX', 'Visit Indicator:IS', 'Other Healthcare Provider:XCN',
    ],
  },
  PV2: { name: 'Patient Visit - Additional Information', fields: ['Prior Pending Location:PL', 'Accommodation Code:CE', 'Admit Reason:CE', 'Transfer Reason:CE', 'Patient Valuables:ST', 'Patient Valuables Location:ST', 'Visit User Code:IS', 'Expected Admit Date/Time:TS', 'Expected Discharge Date/Time:TS'] },
  ORC: {
    name: 'Common Order',
    fields: [
      'Order Control:ID', 'Placer Order Number:EI', 'Filler Order Number:EI', 'Placer Group Number:EI', 'Order Status:ID', 'Response Flag:ID',
      'Quantity/Timing:TQ', 'Parent:EIP', 'Date/Time of Transaction:TS', 'Entered By:XCN', 'Verified By:XCN', 'Ordering Provider:XCN', "Enterer's Location:PL",
      'Call Back Phone Number:XTN', 'Order Effective Date/Time:TS', 'Order Control Code Reason:CE', 'Entering Organization:CE', 'Entering Device:CE',
      'Action By:XCN', 'Advanced Beneficiary Notice Code:CE', 'Ordering Facility Name:XON', 'Ordering Facility Address:XAD', 'Ordering Facility Phone Number:XTN',
      'Ordering Provider Address:XAD', 'Order Status Modifier:CWE', 'Advanced Beneficiary Notice Override Reason:CWE', "Filler's Expected Availability Date/Time:TS",
      'Confidentiality Code:CWE', 'Order Type:CWE', 'Enterer Authorization Mode:CNE', 'Parent Universal Service Identifier:CWE',
    ],
  },
  OBR: {
    name: 'Observation Request',
    fields: [
      'Set ID - OBR:SI', 'Placer Order Number:EI', 'Filler Order Number:EI', 'Universal Service Identifier:CE', 'Priority - OBR:ID', 'Requested Date/Time:TS',
      'Observation Date/Time:TS', 'Observation End Date/Time:TS', 'Collection Volume:CQ', 'Collector Identifier:XCN', 'Specimen Action Code:ID', 'Danger Code:CE',
      'Relevant Clinical Information:ST', 'Specimen Received Date/Time:TS', 'Specimen Source:SPS', 'Ordering Provider:XCN', 'Order Callback Phone Number:XTN',
      'Placer Field 1:ST', 'Placer Field 2:ST', 'Filler Field 1:ST', 'Filler Field 2:ST', 'Results Rpt/Status Chng - Date/Time:TS', 'Charge to Practice:MOC',
      'Diagnostic Serv Sect ID:ID', 'Result Status:ID', 'Parent Result:PRL', 'Quantity/Timing:TQ', 'Result Copies To:XCN', 'Parent:EIP', 'Transportation Mode:ID',
      'Reason for Study:CE', 'Principal Result Interpreter:NDL', 'Assistant Result Interpreter:NDL', 'Technician:NDL', 'Transcriptionist:NDL',
      'Scheduled Date/Time:TS', 'Number of Sample Containers:NM', 'Transport Logistics of Collected Sample:CE', "Collector's Comment:CE",
      'Transport Arrangement Responsibility:CE', 'Transport Arranged:ID', 'Escort Required:ID', 'Planned Patient Transport Comment:CE', 'Procedure Code:CE',
      'Procedure Code Modifier:CE', 'Placer Supplemental Service Information:CE', 'Filler Supplemental Service Information:CE',
      'Medically Necessary Duplicate Procedure Reason:CWE', 'Result Handling:IS', 'Parent Universal Service Identifier:CWE',
    ],
  },
  OBX: {
    name: 'Observation/Result',
    fields: [
      'Set ID - OBX:SI', 'Value Type:ID', 'Observation Identifier:CE', 'Observation Sub-ID:ST', 'Observation Value:*', 'Units:CE', 'References Range:ST',
      'Abnormal Flags:IS', 'Probability:NM', 'Nature of Abnormal Test:ID', 'Observation Result Status:ID', 'Effective Date of Reference Range:TS',
      'User Defined Access Checks:ST', 'Date/Time of the Observation:TS', "Producer's ID:CE", 'Responsible Observer:XCN', 'Observation Method:CE',
      'Equipment Instance Identifier:EI', 'Date/Time of the Analysis:TS',
    ],
  },
  NTE: { name: 'Notes and Comments', fields: ['Set ID - NTE:SI', 'Source of Comment:ID', 'Comment:FT', 'Comment Type:CE'] },
  SPM: {
    name: 'Specimen',
    fields: [
      'Set ID - SPM:SI', 'Specimen ID:EIP', 'Specimen Parent IDs:EIP', 'Specimen Type:CWE', 'Specimen Type Modifier:CWE', 'Specimen Additives:CWE',
      'Specimen Collection Method:CWE', 'Specimen Source Site:CWE', 'Specimen Source Site Modifier:CWE', 'Specimen Collection Site:CWE', 'Specimen Role:CWE',
      'Specimen Collection Amount:CQ', 'Grouped Specimen Count:NM', 'Specimen Description:ST', 'Specimen Handling Code:CWE', 'Specimen Risk Code:CWE',
      'Specimen Collection Date/Time:DR', 'Specimen Received Date/Time:TS', 'Specimen Expiration Date/Time:TS', 'Specimen Availability:ID',
      'Specimen Reject Reason:CWE', 'Specimen Quality:CWE', 'Specimen Appropriateness:CWE', 'Specimen Condition:CWE', 'Specimen Current Quantity:CQ',
      'Number of Specimen Containers:NM', 'Container Type:CWE', 'Container Condition:CWE', 'Specimen Child Role:CWE',
    ],
  },
  SAC: { name: 'Specimen Container Detail', fields: ['External Accession Identifier:EI', 'Accession Identifier:EI', 'Container Identifier:EI', 'Primary (Parent) Container Identifier:EI', 'Equipment Container Identifier:EI', 'Specimen Source:SPS', 'Registration Date/Time:TS', 'Container Status:CE', 'Carrier Type:CE', 'Carrier Identifier:EI', 'Position in Carrier:NA', 'Tray Type - SAC:CE', 'Tray Identifier:EI', 'Position in Tray:NA', 'Location:CE'] },
  TQ1: { name: 'Timing/Quantity', fields: ['Set ID - TQ1:SI', 'Quantity:CQ', 'Repeat Pattern:RPT', 'Explicit Time:TM', 'Relative Time and Units:CQ', 'Service Duration:CQ', 'Start Date/Time:TS', 'End Date/Time:TS', 'Priority:CWE', 'Condition Text:TX', 'Text Instruction:TX', 'Conjunction:ID', 'Occurrence Duration:CQ', 'Total Occurrences:NM'] },
  MSA: { name: 'Message Acknowledgment', fields: ['Acknowledgment Code:ID', 'Message Control ID:ST', 'Text Message:ST', 'Expected Sequence Number:NM', 'Delayed Acknowledgment Type:ID', 'Error Condition:CE'] },
  ERR: { name: 'Error', fields: ['Error Code and Location:ELD', 'Error Location:ERL', 'HL7 Error Code:CWE', 'Severity:ID', 'Application Error Code:CWE', 'Application Error Parameter:ST', 'Diagnostic Information:TX', 'User Message:TX', 'Inform Person Indicator:IS', 'Override Type:CWE', 'Override Reason Code:CWE', 'Help Desk Contact Point:XTN'] },
  AL1: { name: 'Patient Allergy Information', fields: ['Set ID - AL1:SI', 'Allergen Type Code:CE', 'Allergen Code/Mnemonic/Description:CE', 'Allergy Severity Code:CE', 'Allergy Reaction Code:ST', 'Identification Date:DT'] },
  DG1: { name: 'Diagnosis', fields: ['Set ID - DG1:SI', 'Diagnosis Coding Method:ID', 'Diagnosis Code - DG1:CE', 'Diagnosis Description:ST', 'Diagnosis Date/Time:TS', 'Diagnosis Type:IS', 'Major Diagnostic Category:CE', 'Diagnostic Related Group:CE', 'DRG Approval Indicator:ID', 'DRG Grouper Review Code:IS', 'Outlier Type:CE', 'Outlier Days:NM', 'Outlier Cost:CP', 'Grouper Version and Type:ST', 'Diagnosis Priority:ID', 'Diagnosing Clinician:XCN'] },
  IN1: { name: 'Insurance', fields: ['Set ID - IN1:SI', 'Insurance Plan ID:CE', 'Insurance Company ID:CX', 'Insurance Company Name:XON', 'Insurance Company Address:XAD', 'Insurance Co Contact Person:XPN', 'Insurance Co Phone Number:XTN', 'Group Number:ST', 'Group Name:XON', "Insured's Group Emp ID:CX", "Insured's Group Emp Name:XON", 'Plan Effective Date:DT', 'Plan Expiration Date:DT', 'Authorization Information:AUI', 'Plan Type:IS', 'Name of Insured:XPN', "Insured's Relationship to Patient:CE", "Insured's Date of Birth:TS", "Insured's Address:XAD"] },
  QPD: { name: 'Query Parameter Definition', fields: ['Message Query Name:CE', 'Query Tag:ST', 'User Parameters:*'] },
  RCP: { name: 'Response Control Parameter', fields: ['Query Priority:ID', 'Quantity Limited Request:CQ', 'Response Modality:CE', 'Execution and Delivery Time:TS', 'Modify Indicator:ID'] },
  QAK: { name: 'Query Acknowledgment', fields: ['Query Tag:ST', 'Query Response Status:ID', 'Message Query Name:CE', 'Hit Count Total:NM', 'This Payload:NM', 'Hits Remaining:NM'] },
  MRG: { name: 'Merge Patient Information', fields: ['Prior Patient Identifier List:CX', 'Prior Alternate Patient ID:CX', 'Prior Patient Account Number:CX', 'Prior Patient ID:CX', 'Prior Visit Number:CX', 'Prior Alternate Visit ID:CX', 'Prior Patient Name:XPN'] },
  TXA: { name: 'Transcription Document Header', fields: ['Set ID - TXA:SI', 'Document Type:IS', 'Document Content Presentation:ID', 'Activity Date/Time:TS', 'Primary Activity Provider Code/Name:XCN', 'Origination Date/Time:TS', 'Transcription Date/Time:TS', 'Edit Date/Time:TS', 'Originator Code/Name:XCN', 'Assigned Document Authenticator:XCN', 'Transcriptionist Code/Name:XCN', 'Unique Document Number:EI', 'Parent Document Number:EI', 'Placer Order Number:EI', 'Filler Order Number:EI', 'Unique Document File Name:ST', 'Document Completion Status:ID'] },
  FT1: { name: 'Financial Transaction', fields: ['Set ID - FT1:SI', 'Transaction ID:ST', 'Transaction Batch ID:ST', 'Transaction Date:DR', 'Transaction Posting Date:TS', 'Transaction Type:IS', 'Transaction Code:CE', 'Transaction Description:ST', 'Transaction Description - Alt:ST', 'Transaction Quantity:NM', 'Transaction Amount - Extended:CP', 'Transaction Amount - Unit:CP'] },
};

const CE = ['Identifier', 'Text', 'Name of Coding System', 'Alternate Identifier', 'Alternate Text', 'Name of Alternate Coding System'];
const CWE = [...CE, 'Coding System Version ID', 'Alternate Coding System Version ID', 'Original Text'];
const HD = ['Namespace ID', 'Universal ID', 'Universal ID Type'];

export const dataTypes: Record<string, string[]> = {
  HD,
  CE,
  CWE,
  CNE: CWE,
  MSG: ['Message Code', 'Trigger Event', 'Message Structure'],
  PT: ['Processing ID', 'Processing Mode'],
  VID: ['Version ID', 'Internationalization Code', 'International Version ID'],
  CX: ['ID Number', 'Check Digit', 'Check Digit Scheme', 'Assigning Authority', 'Identifier Type Code', 'Assigning Facility', 'Effective Date', 'Expiration Date', 'Assigning Jurisdiction', 'Assigning Agency or Department'],
  XPN: ['Family Name', 'Given Name', 'Second and Further Given Names or Initials Thereof', 'Suffix', 'Prefix', 'Degree', 'Name Type Code', 'Name Representation Code', 'Name Context', 'Name Validity Range', 'Name Assembly Order', 'Effective Date', 'Expiration Date', 'Professional Suffix'],
  XAD: ['Street Address', 'Other Designation', 'City', 'State or Province', 'Zip or Postal Code', 'Country', 'Address Type', 'Other Geographic Designation', 'County/Parish Code', 'Census Tract', 'Address Representation Code', 'Address Validity Range', 'Effective Date', 'Expiration Date'],
  XTN: ['Telephone Number', 'Telecommunication Use Code', 'Telecommunication Equipment Type', 'Email Address', 'Country Code', 'Area/City Code', 'Local Number', 'Extension', 'Any Text', 'Extension Prefix', 'Speed Dial Code', 'Unformatted Telephone Number'],
  XCN: ['ID Number', 'Family Name', 'Given Name', 'Second and Further Given Names or Initials Thereof', 'Suffix', 'Prefix', 'Degree', 'Source Table', 'Assigning Authority', 'Name Type Code', 'Identifier Check Digit', 'Check Digit Scheme', 'Identifier Type Code', 'Assigning Facility', 'Name Representation Code', 'Name Context', 'Name Validity Range', 'Name Assembly Order', 'Effective Date', 'Expiration Date', 'Professional Suffix', 'Assigning Jurisdiction', 'Assigning Agency or Department'],
  XON: ['Organization Name', 'Organization Name Type Code', 'ID Number', 'Check Digit', 'Check Digit Scheme', 'Assigning Authority', 'Identifier Type Code', 'Assigning Facility', 'Name Representation Code', 'Organization Identifier'],
  PL: ['Point of Care', 'Room', 'Bed', 'Facility', 'Location Status', 'Person Location Type', 'Building', 'Floor', 'Location Description', 'Comprehensive Location Identifier', 'Assigning Authority for Location'],
  EI: ['Entity Identifier', 'Namespace ID', 'Universal ID', 'Universal ID Type'],
  EIP: ['Placer Assigned Identifier', 'Filler Assigned Identifier'],
  TS: ['Time', 'Degree of Precision'],
  CQ: ['Quantity', 'Units'],
  FC: ['Financial Class Code', 'Effective Date'],
  SPS: ['Specimen Source Name or Code', 'Additives', 'Specimen Collection Method', 'Body Site', 'Site Modifier', 'Collection Method Modifier Code', 'Specimen Role'],
  DR: ['Range Start Date/Time', 'Range End Date/Time'],
  ELD: ['Segment ID', 'Segment Sequence', 'Field Position', 'Code Identifying Error'],
  ERL: ['Segment ID', 'Segment Sequence', 'Field Position', 'Field Repetition', 'Component Number', 'Sub-Component Number'],
  TQ: ['Quantity', 'Interval', 'Duration', 'Start Date/Time', 'End Date/Time', 'Priority', 'Condition', 'Text', 'Conjunction', 'Order Sequencing', 'Occurrence Duration', 'Total Occurrences'],
  NDL: ['Name', 'Start Date/Time', 'End Date/Time', 'Point of Care', 'Room', 'Bed', 'Facility', 'Location Status', 'Patient Location Type', 'Building', 'Floor'],
  PRL: ['Parent Observation Identifier', 'Parent Observation Sub-identifier', 'Parent Observation Value Descriptor'],
  DLN: ['License Number', 'Issuing State, Province, Country', 'Expiration Date'],
  CP: ['Price', 'Price Type', 'From Value', 'To Value', 'Range Units', 'Range Type'],
  MOC: ['Monetary Amount', 'Charge Code'],
  SN: ['Comparator', 'Num1', 'Separator/Suffix', 'Num2'],
  NA: ['Value1', 'Value2', 'Value3', 'Value4'],
  JCC: ['Job Code', 'Job Class', 'Job Description Text'],
  AUI: ['Authorization Number', 'Date', 'Source'],
  DLD: ['Discharge to Location', 'Effective Date'],
  RPT: ['Repeat Pattern Code', 'Calendar Alignment', 'Phase Range Begin Value', 'Phase Range End Value', 'Period Quantity', 'Period Units', 'Institution Specified Time', 'Event', 'Event Offset Quantity', 'Event Offset Units', 'General Timing Specification'],
};

/** Name and data type of a field (`PID`, 5 → Patient Name, XPN). OBX-5 takes its type from OBX-2. */
export function fieldInfo(segment: string, field: number, obxValueType?: string): { name?: string; type?: string } {
  const entry = segmentNames[segment]?.fields[field - 1];
  if (!entry) return { name: fieldName(segment, field) || undefined };
  const [name, type] = entry.split(':');
  if (type === '*') return { name, type: segment === 'OBX' && field === 5 ? obxValueType : undefined };
  return { name, type };
}
