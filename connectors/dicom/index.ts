// The DICOM area: connector types `dicom` (source) and `dicom-forward` (destination), the CLI
// group, and the pieces the simulator and tests use.
export { dicomConnector, DicomSource, dicomNodes } from './source';
export { dicomForwardConnector, DicomForwardDestination } from './forward';
export { DicomNode, DICOM_INSTANCE_CONTENT_TYPE, DICOM_MPPS_CONTENT_TYPE, DICOM_STUDY_CONTENT_TYPE, DICOM_EXCEPTION_CONTENT_TYPE, type InstanceMessage } from './node';
export { dicomSourceSchema, dicomForwardSchema, type DicomSourceConfig, type DicomForwardConfig } from './config';
