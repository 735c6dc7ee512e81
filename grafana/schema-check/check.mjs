// Type-checks Grafana dashboards against @grafana/schema (see dashboard-types.ts).
// Usage: node check.mjs [dashboard.json ...]   (default: ../dashboards/*.json)
// Each dashboard becomes `const dashboard: CheckedDashboard = <its JSON>;` in a scratch
// directory next to this one's node_modules, and `tsc --noEmit` judges it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const defaults = join(here, '..', 'dashboards');
const dashboards = process.argv.length > 2
  ? process.argv.slice(2).map((p) => resolve(p))
  : readdirSync(defaults).filter((f) => f.endsWith('.json')).map((f) => join(defaults, f));

const scratch = mkdtempSync(join(tmpdir(), 'routewatch-schema-check-'));
try {
  symlinkSync(join(here, 'node_modules'), join(scratch, 'node_modules'), 'dir');
  copyFileSync(join(here, 'dashboard-types.ts'), join(scratch, 'dashboard-types.ts'));
  copyFileSync(join(here, 'tsconfig.json'), join(scratch, 'tsconfig.json'));
  for (const path of dashboards) {
    const json = JSON.stringify(JSON.parse(readFileSync(path, 'utf8')), null, 2);
    const name = basename(path, '.json').replace(/[^A-Za-z0-9_-]/g, '_');
    writeFileSync(join(scratch, `${name}.ts`),
      `// ${path}\nimport type { CheckedDashboard } from './dashboard-types';\n` +
      `export const dashboard: CheckedDashboard = ${json};\n`);
  }
  const tsc = join(here, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '--noEmit', '-p', join(scratch, 'tsconfig.json')],
    { stdio: 'inherit' });
  if (result.status === 0) console.log(`${dashboards.length} dashboard(s) match @grafana/schema`);
  process.exitCode = result.status ?? 1;
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
