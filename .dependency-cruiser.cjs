/**
 * The layers, top to bottom: app (the trustlab CLI and lab orchestration) → suites → harness and
 * reports (side by side) → brokers → certs, with contracts (types all of them speak) at the bottom.
 * An import may only go down. Tests may cross layers (they check how the layers fit), so rules
 * apply to the code they test, not to the tests themselves.
 */
const NOT_TESTS = '(\\.test\\.ts$|/fixtures/)';
const layer = (folder, mayNotImport, why) => ({
  name: `${folder}-imports-only-down`,
  severity: 'error',
  comment: why,
  from: { path: `^${folder}/`, pathNot: NOT_TESTS },
  to: { path: `^(${mayNotImport.join('|')})/` },
});

module.exports = {
  forbidden: [
    layer(
      'contracts',
      ['app', 'suites', 'harness', 'reports', 'brokers', 'certs'],
      'contracts are the bottom: they import nothing of the project',
    ),
    layer('certs', ['app', 'suites', 'harness', 'reports', 'brokers'], 'the PKI factory stands alone'),
    layer('brokers', ['app', 'suites', 'harness', 'reports'], 'endpoints know certificates, nothing above'),
    layer(
      'harness',
      ['app', 'suites', 'reports'],
      'the device side knows nothing of suites, reports or the CLI',
    ),
    layer(
      'reports',
      ['app', 'suites', 'harness'],
      'reports read records; they never reach into the device side or the suites',
    ),
    layer('suites', ['app'], 'suites are driven by the CLI, never the other way round'),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^node_modules|^reports/out|^\\.cache)' },
    tsPreCompilationDeps: 'specify',
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs'] },
  },
};
