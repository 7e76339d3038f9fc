/*!
Zero-copy single-writer / many-reader market buffers (tickers and kline rings) in process and across processes through mmap, with seqlocked records and indicators.

**Status: planned.** This crate holds no code yet; its design and
acceptance criteria are tracked in issue #7. It is part of the workspace
now so that its name, folder and place in the dependency graph are fixed:
like every vivace domain crate it will depend on `vivace-backend`, offer
scalar, SIMD and GPU kernels chosen at run time, and never depend on
another domain crate.
*/
#![deny(missing_docs)]
