// checkout-service: a stub for the careless example repository.
import express from "express";

const app = express();
app.get("/health", (_req, res) => res.send("ok"));
app.listen(Number(process.env.PORT ?? 3000));
