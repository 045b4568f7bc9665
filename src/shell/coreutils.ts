import { render, wrap, type Cmd } from './cmd.js';

export const mkdirP = (...dirs: string[]): Cmd => ({ file: 'mkdir', args: ['-p', ...dirs] });
export const copyTree = (from: string, to: string): Cmd => ({ file: 'cp', args: ['-a', from, to] });
/** Never crosses into another filesystem, so a forgotten mount below is left intact. */
export const removeTree = (dir: string): Cmd => ({ file: 'rm', args: ['-rf', '--one-file-system', dir] });
export const killPid = (signal: string, pid: string): Cmd => ({ file: 'kill', args: [`-${signal}`, pid] });
export const rename = (from: string, to: string): Cmd => ({ file: 'mv', args: ['-T', from, to] });
/** Write text to a file, shown as `tee FILE <<< TEXT`. */
export const writeFile = (path: string, text: string): Cmd => ({ file: 'tee', args: [path], stdin: text });
export const cat = (...files: string[]): Cmd => ({ file: 'cat', args: files });
export const ls = (...args: string[]): Cmd => ({ file: 'ls', args });
/**
 * env -i: the program starts with an empty environment. In a generated bash script, where it is
 * the last thing a (sub)shell runs, bash's own `exec -c` does the same with no env process.
 */
export const withEmptyEnv = (inner: Cmd): Cmd => ({ ...wrap('env', ['-i'], inner), inline: `exec -c ${render(inner)}` });
