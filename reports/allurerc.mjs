// Allure 3 configuration for `trustlab run`: one self-contained HTML file per run, grouped by
// model/firmware then scenario family. The CLI passes the results and output folders.
import { defineConfig } from 'allure';

export default defineConfig({
  name: 'TrustLab conformance',
  plugins: {
    awesome: { options: { singleFile: true, groupBy: ['parentSuite', 'feature'] } },
  },
});
