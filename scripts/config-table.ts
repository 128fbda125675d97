// Prints the README's configuration table: `node --import tsx scripts/config-table.ts`.
import { configTable } from '../web-terminal/src/config/docs.ts';

console.log(configTable());
