// The Node app workload's one source file; the bench's edit loop rewrites the greeting line.
const express = require('express');
const app = express();
const greeting = 'hello';
app.get('/', (_req, res) => res.send(greeting));
app.listen(Number(process.env.PORT ?? 8080));
