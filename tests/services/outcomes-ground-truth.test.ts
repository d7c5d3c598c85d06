// The check at its size: collection outcomes and first-contact verdicts against the simulator's
// ground truth for a 20,000-household city over eight weeks with known miss rates (GMT and BST,
// Easter's bank holidays). Its event stream goes in through ingest's write path, without the broker;
// on two cores it takes several minutes, so it runs here rather than in the default suite, which runs
// the same checks on 3,000 households (tests/analysis/outcomes/ground-truth.test.ts).
import { groundTruthSuite } from '../analysis/outcomes/ground-truth-suite.ts'

groundTruthSuite({ households: 20_000, seed: 2026, start: '2026-03-02', weeks: 8 })
