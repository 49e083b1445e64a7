// Fails when two files differ: used by `npm run check:api` to prove that the committed API
// types equal what openapi-typescript generates from the committed openapi.json.
import { readFileSync, rmSync } from 'node:fs';

const [committed, fresh] = process.argv.slice(2);
const same = readFileSync(committed, 'utf8') === readFileSync(fresh, 'utf8');
rmSync(fresh);
if (!same) {
  console.error(`${committed} is out of date: run \`npm run gen:api\` and commit the result.`);
  process.exit(1);
}
console.log(`${committed} matches openapi.json`);
