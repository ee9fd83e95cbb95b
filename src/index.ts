// ctnat public API (curated explicit exports).
export * from "./core/index.js";
