// Outcomes and first-contact verdicts against the simulator's ground truth, for a 3,000-household city
// over eight weeks (GMT and BST, Easter's bank holidays): small enough for the default suite. The
// issue's 20,000 households run in the services suite (tests/services/outcomes-ground-truth.test.ts),
// the same checks.
import { groundTruthSuite } from './ground-truth-suite.ts'

groundTruthSuite({ households: 3_000, seed: 2027, start: '2026-03-02', weeks: 8 })
