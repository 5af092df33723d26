#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""elfbomb.py SRC DST KIND [MIB]: a copy of the 64-bit ELF object SRC whose
headers claim what the file does not hold, as a hostile trace may name:

  symtab  .symtab's sh_size is MIB MiB (2048), the file extended sparse
  strtab  the string table of .symtab claims MIB MiB, sparse
  note    an SHT_NOTE section claims MIB MiB, sparse (read for the build-id)
  dynsym  .dynsym claims MIB MiB, sparse (SRC should be stripped)
  shnum   extended section numbering: e_shnum 0 and section 0's sh_size
          40,000,000, the section header table moved into a sparse area
  holes   .symtab claims MIB MiB (under socktrace's caps when MIB < 512)
          that lie in a hole of the sparse file

A few KB on disk each.  Only the standard library.
"""
import os
import struct
import sys

SHT_SYMTAB, SHT_NOTE, SHT_DYNSYM = 2, 7, 11


def headers(d):
    shoff = struct.unpack_from('<Q', d, 0x28)[0]
    entsize, shnum = struct.unpack_from('<HH', d, 0x3a)
    for i in range(shnum):
        o = shoff + i * entsize
        yield i, o, struct.unpack_from('<II', d, o)[1], struct.unpack_from('<I', d, o + 0x28)[0]


def set_size(d, want, size, via_link=False):
    shoff = struct.unpack_from('<Q', d, 0x28)[0]
    entsize = struct.unpack_from('<H', d, 0x3a)[0]
    for i, o, typ, link in headers(d):
        if typ == want:
            target = link if via_link else i
            struct.pack_into('<Q', d, shoff + target * entsize + 0x20, size)
            return
    sys.exit('elfbomb: no section of type %d in the source' % want)


def main():
    src, dst, kind = sys.argv[1:4]
    mib = int(sys.argv[4]) if len(sys.argv) > 4 else 2048
    d = bytearray(open(src, 'rb').read())
    if d[:4] != b'\x7fELF' or d[4] != 2:
        sys.exit('elfbomb: %s is not a 64-bit ELF object' % src)
    size = (mib << 20) // 24 * 24
    extend = (mib << 20) + len(d) + (1 << 20)
    if kind == 'shnum':
        off = 1 << 30
        struct.pack_into('<Q', d, 0x28, off)
        struct.pack_into('<HH', d, 0x3c, 0, 0)
        hdr0 = bytearray(64)
        struct.pack_into('<Q', hdr0, 0x20, 40_000_000)
        with open(dst, 'wb') as f:
            f.write(d)
            f.seek(off)
            f.write(hdr0)
            f.truncate(off + 40_000_000 * 64)
        return
    if kind in ('symtab', 'holes'):
        set_size(d, SHT_SYMTAB, size)
    elif kind == 'strtab':
        set_size(d, SHT_SYMTAB, size, via_link=True)
    elif kind == 'note':
        set_size(d, SHT_NOTE, size)
    elif kind == 'dynsym':
        set_size(d, SHT_DYNSYM, size)
    else:
        sys.exit('elfbomb: unknown kind %s' % kind)
    with open(dst, 'wb') as f:
        f.write(d)
        f.truncate(extend)


if __name__ == '__main__':
    main()
