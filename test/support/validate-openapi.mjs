// Validates an OpenAPI document read from stdin with @seriousme/openapi-schema-validator (an
// ESM-only package, so Jest's CommonJS runtime cannot import it: the suite runs this instead).
import { Validator } from '@seriousme/openapi-schema-validator';

let text = '';
for await (const chunk of process.stdin) text += chunk;
const result = await new Validator().validate(JSON.parse(text));
process.stdout.write(JSON.stringify(result));
