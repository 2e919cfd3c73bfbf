import { openStore, type Store } from '../../store/index.js';

/** A real store on a test root. */
export async function testStore(root: string): Promise<Store> {
  return openStore(root);
}

export interface TarItem {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  xattrs: Record<string, Buffer>;
  body: Buffer;
}

/** A small tar reader that keeps PAX values as bytes (binary xattrs). */
export function readTar(buf: Buffer): TarItem[] {
  const out: TarItem[] = [];
  let off = 0;
  let pax: Record<string, Buffer> = {};
  const str = (b: Buffer) => b.toString('utf8').replace(/\0.*$/s, '');
  const oct = (b: Buffer) => parseInt(str(b).trim() || '0', 8);
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((x) => x === 0)) break;
    const size = oct(h.subarray(124, 136));
    const body = buf.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    const type = String.fromCharCode(h[156]);
    if (type === 'x') {
      let p = 0;
      while (p < body.length) {
        const sp = body.indexOf(0x20, p);
        const len = parseInt(body.subarray(p, sp).toString(), 10);
        const rec = body.subarray(sp + 1, p + len - 1);
        const eq = rec.indexOf(0x3d);
        pax[rec.subarray(0, eq).toString()] = rec.subarray(eq + 1);
        p += len;
      }
      continue;
    }
    const prefix = str(h.subarray(345, 500));
    let name = (prefix ? prefix + '/' : '') + str(h.subarray(0, 100));
    let linkname = str(h.subarray(157, 257));
    if (pax.path) name = pax.path.toString();
    if (pax.linkpath) linkname = pax.linkpath.toString();
    const xattrs: Record<string, Buffer> = {};
    for (const [k, v] of Object.entries(pax)) if (k.startsWith('SCHILY.xattr.')) xattrs[k.slice(13)] = v;
    out.push({
      name, type, mode: oct(h.subarray(100, 108)), uid: pax.uid ? Number(pax.uid.toString()) : oct(h.subarray(108, 116)),
      gid: oct(h.subarray(116, 124)), mtime: oct(h.subarray(136, 148)), size, linkname,
      uname: str(h.subarray(265, 297)), gname: str(h.subarray(297, 329)),
      devmajor: oct(h.subarray(329, 337)), devminor: oct(h.subarray(337, 345)), xattrs, body: Buffer.from(body),
    });
    pax = {};
  }
  return out;
}
