// Module boundaries (shared/ARCHITECTURE.md): contracts ← decode ← rules ← alarms; adapters depend only on
// contracts (and the config and sqlite helpers), never on each other; only apps/ wire things together.
const ADAPTERS = '^libs/(ingest-mqtt|store-influx|store-embedded|ws|broker-aedes|identity|gateway-auth|notify)/';
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    { name: 'libs-not-apps', severity: 'error', from: { path: '^libs/' }, to: { path: '^(apps|simulators)/' } },
    { name: 'contracts-are-leaves', severity: 'error', from: { path: '^libs/contracts/' }, to: { path: '^libs/(?!contracts/)' } },
    { name: 'decode-only-contracts', severity: 'error', from: { path: '^libs/decode/', pathNot: '\\.test\\.ts$' }, to: { path: '^libs/(?!(contracts|decode)/)' } },
    {
      name: 'rules-pure',
      comment: 'the rule core knows nothing of NestJS, sockets, files or adapters',
      severity: 'error',
      from: { path: '^libs/rules/', pathNot: '\\.test\\.ts$' },
      to: { path: ['^libs/(?!(contracts|rules)/)', '@nestjs', 'node_modules/(mqtt|ws|better-sqlite3|aedes|@influxdata)/', '^(fs|net|http|dgram)$'] },
    },
    { name: 'alarms-core', severity: 'error', from: { path: '^libs/alarms/', pathNot: '\\.test\\.ts$' }, to: { path: ['^libs/(?!(contracts|rules|alarms)/)', '@nestjs'] } },
    {
      name: 'gateway-auth-independent',
      comment: 'gateway credentials and authority know the contracts only: the app hands them the registry as a lookup',
      severity: 'error',
      from: { path: '^libs/gateway-auth/', pathNot: '\\.test\\.ts$' },
      to: { path: '^libs/', pathNot: '^libs/(contracts|config|sqlite|gateway-auth)/' },
    },
    {
      name: 'adapters-independent',
      severity: 'error',
      from: { path: ADAPTERS, pathNot: '\\.test\\.ts$' },
      to: { path: '^libs/', pathNot: ['^libs/(contracts|config|sqlite)/', '^libs/$1/'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
  },
};
