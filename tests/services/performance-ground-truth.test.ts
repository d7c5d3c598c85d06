// The check at its size: every contractor KPI against the simulator's ground truth for a
// 20,000-household city over eight weeks with known miss rates (tests/analysis/performance has the
// checks; the default suite runs them on 1,500 households).
import { groundTruthSuite } from '../analysis/performance/ground-truth-suite.ts'

groundTruthSuite({ households: 20_000, seed: 2026, start: '2026-03-02', weeks: 8, badMissRate: 0.1 })
