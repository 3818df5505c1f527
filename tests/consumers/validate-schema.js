// validate-schema.js SCHEMA.json DOC.json - validates DOC against a JSON
// schema (draft-07) with ajv; prints the errors and exits 1 if invalid.
"use strict";
const fs = require("fs");
const Ajv = require("ajv");
const [schemaPath, docPath] = process.argv.slice(2);
const schema = JSON.parse(fs.readFileSync(schemaPath, "utf8"));
const doc = JSON.parse(fs.readFileSync(docPath, "utf8"));
const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(schema);
if (!validate(doc)) {
  console.log(JSON.stringify(validate.errors.slice(0, 10), null, 1));
  process.exit(1);
}
console.log("valid");
