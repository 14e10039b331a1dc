// Starts the HTTP front's thread from the TypeScript sources, as the tests run
// them (a build runs dist/service/http/front-worker.js instead): tsx, a
// development dependency, compiles the sources as they load.
import { register } from 'tsx/esm/api';

register();
await import('./front-worker.ts');
