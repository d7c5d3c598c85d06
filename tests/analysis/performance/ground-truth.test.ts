// Every contractor KPI against the simulator's ground truth, for a 1,500-household city over eight
// weeks: small enough for the default suite. The 20,000 households of the issue run in the services
// suite (tests/services/performance-ground-truth.test.ts), the same checks.
import { groundTruthSuite } from './ground-truth-suite.ts'

groundTruthSuite({ households: 1_500, seed: 2026, start: '2026-03-02', weeks: 8, badMissRate: 0.1 })
