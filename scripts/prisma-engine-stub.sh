#!/bin/sh
# Stand-in for Prisma's native schema engine, which cannot be downloaded on these machines.
# `prisma generate` only checks that an engine exists; anything that would really use it must fail loudly.
echo "stack-sync: Prisma's native schema engine is not installed here. Use 'npm run db:migrate' to apply and 'npm run db:migration' to generate migrations." >&2
exit 1
