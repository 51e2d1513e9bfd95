import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Each test file gets its own state folder: restore journals are keyed by device address, and two
// files' virtual modems can be handed the same ephemeral port one after the other. A journal a
// test left open on purpose (a killed run) must never meet another file's device of another
// family. `trustlab run` loads the config too, with TRUSTLAB_RUN set: a lab's folder stays.
if (!process.env.TRUSTLAB_RUN)
  process.env.TRUSTLAB_STATE_DIR = mkdtempSync(join(tmpdir(), 'trustlab-state-'));
