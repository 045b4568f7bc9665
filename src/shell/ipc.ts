import type { Cmd } from './cmd.js';

/** ipcmk(1): a System V shared memory segment; prints "Shared memory id: N". */
export const makeShm = (bytes: number): Cmd => ({ file: 'ipcmk', args: ['--shmem', String(bytes)] });
/** ipcrm(1) by id. */
export const removeShm = (id: string): Cmd => ({ file: 'ipcrm', args: ['--shmem-id', id] });
