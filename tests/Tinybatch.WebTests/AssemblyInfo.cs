// The statement-count tests run the loader on the real clock (1 ms batch delay): test classes running side by side
// would compete for the two cores and split a request's burst of loads into more batches than a quiet server does.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
