import { EC200U_PESSIMISTIC, estimateSeconds } from '../suites/estimate.ts';
import { defaultMatrix, fullMatrix } from '../suites/matrix.ts';
import { SCENARIOS } from '../suites/scenarios.ts';

/** Prints the matrix sizes and their estimated duration on a real EC200U (see suites/estimate.ts). */
const minutes = (s: number) => `${(s / 60).toFixed(1)} min`;
const d = defaultMatrix();
const f = fullMatrix();
console.log(`scenarios: ${SCENARIOS.length}`);
console.log(`default matrix: ${d.length} cases, EC200U estimate ${minutes(estimateSeconds(d))}`);
console.log(`full matrix: ${f.length} cases, EC200U estimate ${minutes(estimateSeconds(f))}`);
console.log(`cost model: ${JSON.stringify(EC200U_PESSIMISTIC)}`);
