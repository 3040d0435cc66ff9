// The viewer's styles, added to the page once when an EMR page opens (the console's own sheet stays
// untouched). The print view hides the console frame only while `body.emr-print-mode` is set.
const CSS = `
.emr-search-results td[data-label] { vertical-align: top; }
.emr-patient-head { display: flex; flex-wrap: wrap; gap: 0.4rem 1.5rem; align-items: baseline; }
.emr-patient-head .emr-ids { color: var(--muted); font-size: 0.95rem; }
.emr-tabs { display: flex; gap: 0.4rem; flex-wrap: wrap; margin: 0.5rem 0 1rem; }
.emr-tabs a { text-decoration: none; }
.emr-tabs a[aria-current='page'] { background: var(--brand); color: #fff; }
.emr-timeline { list-style: none; margin: 0; padding: 0; }
.emr-timeline li { background: var(--panel); border: 1px solid var(--line); border-left: 5px solid var(--brand); border-radius: var(--radius); padding: 0.6rem 0.9rem; margin-bottom: 0.6rem; }
.emr-timeline li[data-type='lab-report'] { border-left-color: #1456a0; }
.emr-timeline li[data-type='imaging-report'] { border-left-color: #6a3fa0; }
.emr-timeline li[data-type='vital-signs'] { border-left-color: #b3261e; }
.emr-timeline li[data-type='discharge-summary'] { border-left-color: #1e7b34; }
.emr-timeline .emr-when { font-weight: 600; }
.emr-timeline .emr-meta { color: var(--muted); font-size: 0.9rem; }
.emr-sig { padding: 0.7rem 1rem; border-radius: var(--radius); margin-bottom: 1rem; border: 2px solid; }
.emr-sig-valid { border-color: #1e7b34; background: #e3f4e7; color: #14532a; }
.emr-sig-invalid { border-color: #b3261e; background: #fde7e5; color: #7a1a14; font-size: 1.15rem; }
.emr-sig-invalid strong { font-size: 1.3rem; }
.emr-doc { background: #fff; border: 1px solid var(--line); border-radius: var(--radius); padding: 1rem 1.25rem; }
.emr-doc h1 { text-align: center; text-transform: uppercase; font-size: 1.3rem; margin: 0.5rem 0 1rem; }
.emr-doc h2 { border-bottom: 1px solid var(--line); padding-bottom: 0.2rem; margin-top: 1.2rem; }
.emr-doc table { border-collapse: collapse; width: 100%; }
.emr-header th { text-align: left; color: var(--muted); font-weight: normal; width: 26%; padding: 0.15rem 0.5rem; vertical-align: top; }
.emr-header td { padding: 0.15rem 0.5rem; }
.emr-narrative td, .emr-narrative th { border: 1px solid var(--line); padding: 0.3rem 0.5rem; text-align: left; }
.emr-narrative thead th { background: #eef3f6; }
.cda-bold { font-weight: 700; color: #7a1a14; }
.emr-id { font-family: ui-monospace, Menlo, Consolas, monospace; }
.emr-charts { display: grid; gap: 1rem; grid-template-columns: 1fr; }
@media (min-width: 1100px) { .emr-charts { grid-template-columns: 1fr 1fr; } }
.emr-chart { background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius); padding: 0.6rem 0.8rem; margin: 0; }
.emr-chart figcaption { font-weight: 600; margin-bottom: 0.3rem; }
.emr-chart-svg { width: 100%; height: auto; display: block; }
.emr-grid { stroke: #e3e8ee; stroke-width: 1; }
.emr-axis { font-size: 11px; fill: #5b6b7a; }
.emr-ref-band { fill: rgba(30, 123, 52, 0.14); stroke: rgba(30, 123, 52, 0.4); stroke-dasharray: 4 3; }
.emr-line { fill: none; stroke: #1456a0; stroke-width: 2; }
.emr-dot { fill: #1456a0; stroke: #fff; stroke-width: 1.5; }
.emr-dot-abnormal { fill: #b3261e; }
.emr-chart-values { font-size: 0.9rem; margin-top: 0.3rem; }
.emr-chart-values table { border-collapse: collapse; }
.emr-chart-values td, .emr-chart-values th { padding: 0.1rem 0.6rem; text-align: left; }
.emr-abnormal { color: #b3261e; font-weight: 600; }
.emr-risk-high, .emr-risk-medium { color: #b3261e; font-weight: 700; }
.emr-risk-low-medium { color: #8a5a00; font-weight: 700; }
.emr-studies { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(280px, 1fr)); }
.emr-study { background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius); padding: 0.8rem; }
.emr-study img { width: 100%; max-width: 256px; image-rendering: auto; background: #000; border-radius: 4px; display: block; }
.emr-no-image { background: #eef1f4; color: var(--muted); border: 1px dashed var(--line); border-radius: 4px; padding: 1.5rem 0.8rem; text-align: center; }
body.emr-print-mode .topbar, body.emr-print-mode .nav, body.emr-print-mode .skip-link { display: none !important; }
body.emr-print-mode .layout { display: block; }
body.emr-print-mode main { padding: 0; max-width: none; }
body.emr-print-mode .emr-doc { border: 0; font-family: 'Times New Roman', serif; }
@media print {
  .emr-noprint { display: none !important; }
  body.emr-print-mode { background: #fff; }
  .emr-doc { padding: 0; }
}
`;

export function ensureEmrStyles(): void {
  if (document.getElementById('emr-styles')) return;
  const style = document.createElement('style');
  style.id = 'emr-styles';
  style.textContent = CSS;
  document.head.appendChild(style);
}
