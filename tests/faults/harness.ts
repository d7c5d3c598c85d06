// What the fault tests share besides the crash harness (tests/helpers/crash-harness.ts) and the
// device fleet (tests/helpers/device-fleet.ts).

/** One line per fault test, collected into the suite's summary. */
export function report(name: string, r: { faults: number; published: number; stored: number; duplicates: number; lost: number; extra?: string }) {
  console.error(`FAULT ${name}: faults injected ${r.faults}, messages acknowledged ${r.published}, stored ${r.stored}, lost ${r.lost}, duplicates ${r.duplicates}${r.extra ? `, ${r.extra}` : ''}`)
}
