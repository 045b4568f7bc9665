import { join } from 'node:path';
import type { Cmd } from './cmd.js';
import { packageRoot } from '../paths.js';

/** boxlab itself as a step's tool (fetch, inspect, diff): this install's bin (it starts with #!/usr/bin/env node). */
export const boxlab = (...args: string[]): Cmd => ({ file: join(packageRoot(import.meta.url), 'bin', 'boxlab.js'), args });

/** boxlab's OCI runtime command line (bin/boxlab-runtime), as an engine calls it. */
export const boxlabRuntime = (...args: string[]): Cmd => ({ file: join(packageRoot(import.meta.url), 'bin', 'boxlab-runtime'), args });
