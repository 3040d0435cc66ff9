// Typed models of every table, one namespace per format version, generated from claims/spec/data.
export * as Qd4210 from './qd4210';
export * as Qd130 from './qd130';
export * as Qd4750 from './qd4750';
export * as Qd3176 from './qd3176';
