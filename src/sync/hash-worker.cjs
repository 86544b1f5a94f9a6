// The task of password.ts's hashing pool, run on a piscina worker thread. Plain CommonJS because piscina loads
// it with require(), outside the bundler and the TypeScript loader.
// hashSync, not hash: the async form would hop to libuv's threadpool, whose threads are not lowered in priority.
const { randomBytes } = require("node:crypto");
const bcrypt = require("bcrypt");

/** @param {number} rounds */
module.exports = (rounds) => bcrypt.hashSync(randomBytes(32).toString("hex"), rounds);
