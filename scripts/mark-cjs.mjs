// tsc emits CommonJS into dist/cjs; Node needs a package.json there saying so,
// because the root package.json declares "type": "module".
import { writeFileSync } from 'node:fs';
writeFileSync(new URL('../dist/cjs/package.json', import.meta.url), '{ "type": "commonjs" }\n');
