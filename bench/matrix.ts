import { EC200U_PESSIMISTIC, estimateSeconds } from '../suites/estimate.ts';
import { defaultMatrix, fullMatrix } from '../suites/matrix.ts';
import type { MatrixCase } from '../suites/scenario-model.ts';
import { SCENARIOS } from '../suites/scenarios.ts';
import { SESSION_SCENARIOS } from '../suites/sessions.ts';

/** Prints the matrix sizes and their estimated duration on a real EC200U (see suites/estimate.ts). */
const minutes = (s: number) => `${(s / 60).toFixed(1)} min`;
const d = defaultMatrix();
const f = fullMatrix();
console.log(`scenarios: ${SCENARIOS.length}`);
console.log(`default matrix: ${d.length} cases, EC200U estimate ${minutes(estimateSeconds(d))}`);
console.log(`full matrix: ${f.length} cases, EC200U estimate ${minutes(estimateSeconds(f))}`);
// Per scenario family, so a new family's (or ladder's) cost is visible on its own.
const familyOf = (c: MatrixCase) => c.scenario.id.slice(0, c.scenario.id.indexOf('::'));
const families = [...new Set(f.map(familyOf))];
for (const family of families) {
  const inD = d.filter((c) => familyOf(c) === family);
  const inF = f.filter((c) => familyOf(c) === family);
  console.log(
    `  ${family}: default ${inD.length} (${minutes(estimateSeconds(inD))}), full ${inF.length} (${minutes(estimateSeconds(inF))})`,
  );
}
// Run after the catalogue in both matrices: each sessions case is the ordinary case twice.
const connection =
  EC200U_PESSIMISTIC.commandsPerCase * EC200U_PESSIMISTIC.secondsPerCommand +
  EC200U_PESSIMISTIC.networkSecondsPerCase;
const sessions = SESSION_SCENARIOS.length * (2 * connection + EC200U_PESSIMISTIC.settleSeconds);
console.log(
  `  sessions (after the catalogue): ${SESSION_SCENARIOS.length} cases of 2 connections (${minutes(sessions)})`,
);
console.log(`cost model: ${JSON.stringify(EC200U_PESSIMISTIC)}`);
