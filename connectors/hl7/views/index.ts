// Typed views of the messages the engine uses, with conversion to and from the canonical model.
export { readAdt, buildAdt, type AdtEvent, type AdtView } from './adt';
export { readOrders, buildOml, buildOrm, type OrdersView } from './orders';
export { readResults, buildOru, buildOul, parseReferenceRange, type ResultsView } from './results';
export { patientOf, visitOf, addPid, addPv1, type VisitOptions } from './patient';
