// A botbuilder Storage that keeps one JSON file per key in a directory: what a sample-style "file storage"
// does. Reads and writes honour eTags exactly like botbuilder's MemoryStorage (a write whose eTag is set and
// not '*' must match the stored item's, else it fails). Files are replaced by write-to-temp-then-rename, and
// never fsynced: like the typical sample stores, and faster than a durable store (AccessBot's bbolt and
// PostgreSQL commits are fsynced), so the comparison is conservative for AccessBot.
'use strict';

const fs = require('node:fs/promises');
const path = require('node:path');
const crypto = require('node:crypto');

class FileStorage {
    /** @param {string} dir the directory holding one file per key (created if missing). */
    constructor(dir) {
        this.dir = dir;
        this.etag = 1;
        this.tails = new Map(); // key → the promise of its last write or delete, to serialise them per key
    }

    file(key) {
        return path.join(this.dir, encodeURIComponent(key) + '.json');
    }

    async read(keys) {
        if (!keys) {
            throw new ReferenceError('Keys are required when reading.');
        }
        const data = {};
        await Promise.all(
            keys.map(async (key) => {
                const item = await this.readItem(key);
                if (item) {
                    data[key] = item;
                }
            }),
        );
        return data;
    }

    async readItem(key) {
        try {
            return JSON.parse(await fs.readFile(this.file(key), 'utf8'));
        } catch (err) {
            if (err.code === 'ENOENT') {
                return undefined;
            }
            throw new Error(`Storage: error reading "${key}": ${err.message}`, { cause: err });
        }
    }

    async write(changes) {
        if (!changes) {
            throw new ReferenceError('Changes are required when writing.');
        }
        await Promise.all(Object.keys(changes).map((key) => this.serialised(key, () => this.writeItem(key, changes[key]))));
    }

    async writeItem(key, item) {
        if (item.eTag && item.eTag !== '*') {
            const old = await this.readItem(key);
            if (old && old.eTag !== item.eTag) {
                throw new Error(`Storage: error writing "${key}" due to eTag conflict.`);
            }
        }
        const clone = { ...item, eTag: `${process.pid}-${this.etag++}` };
        const tmp = `${this.file(key)}.${crypto.randomUUID()}.tmp`;
        await fs.writeFile(tmp, JSON.stringify(clone));
        await fs.rename(tmp, this.file(key));
    }

    async delete(keys) {
        await Promise.all(keys.map((key) => this.serialised(key, () => fs.rm(this.file(key), { force: true }))));
    }

    // serialised runs op after the key's previous write or delete has settled, so the eTag check and the
    // replacement of one key are not interleaved with another write of the same key.
    serialised(key, op) {
        const prev = this.tails.get(key) || Promise.resolve();
        const next = prev.then(op, op);
        const tail = next.catch(() => {});
        this.tails.set(key, tail);
        tail.then(() => {
            if (this.tails.get(key) === tail) {
                this.tails.delete(key);
            }
        });
        return next;
    }
}

module.exports = { FileStorage };
