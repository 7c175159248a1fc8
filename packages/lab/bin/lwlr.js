#!/usr/bin/env node
// The lwlr CLI (built into dist/ by npm run build; this file exists before the build so npm can link it).
import "../dist/src/cli/main.js";
