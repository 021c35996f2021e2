#!/bin/sh
# What `errgroup <dir>` must print, computed by coreutils: the md5sum of every
# regular file under <dir>, path relative to <dir>, sorted bytewise (as the
# app's std::map). The app.errgroup.matches_md5sum_* tests compare with it.
set -e
cd "$1"
find . -type f -printf '%P\n' | LC_ALL=C sort | xargs -r -d '\n' md5sum --
