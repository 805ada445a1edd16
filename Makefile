# Mirrors the Go project's targets. Every target works from a clean clone with only the .NET SDK (and make).
.PHONY: all build vet test test_ci test-coverage run bench bench-quick stress pack smoke postgres-start postgres-stop clean

all: vet test_ci

build:
	dotnet build -c Release

## vet: build with analyzers (warnings are errors) and check formatting
vet:
	dotnet build -c Release -p:StrictPublicApi=true
	dotnet format --verify-no-changes

## test: all tests, with coverage collected
test:
	dotnet test --collect:"XPlat Code Coverage" --results-directory TestResults

## test_ci: all tests, no coverage report
test_ci:
	dotnet test

## test-coverage: an HTML coverage report
test-coverage: test
	dotnet tool restore
	dotnet reportgenerator -reports:"TestResults/**/coverage.cobertura.xml" -targetdir:coverage-report -reporttypes:"Html;TextSummary"
	@cat coverage-report/Summary.txt | head -20
	@echo "coverage report: $(CURDIR)/coverage-report/index.html"

## run: the main job, the event-stream demo on SQLite
run:
	dotnet run -c Release --project samples/Tinybatch.EventStream

## bench: the side-by-side comparison with the anchors (full run, under 10 minutes)
bench:
	dotnet run -c Release --project bench/Tinybatch.Benchmarks -- compare

bench-quick:
	dotnet run -c Release --project bench/Tinybatch.Benchmarks -- compare --quick

## stress: the long soak (TINYBATCH_SOAK_SECONDS, default 600)
stress:
	TINYBATCH_SOAK_SECONDS=$${TINYBATCH_SOAK_SECONDS:-600} dotnet test tests/Tinybatch.StressTests -c Release --logger "console;verbosity=normal"

## pack: every package (.nupkg and .snupkg) into artifacts/packages, checked for warnings, README, icon and XML docs
pack:
	scripts/pack.sh artifacts/packages

## smoke: pack, then install the packages into fresh apps outside the repository and run them (what CI runs)
smoke:
	scripts/smoke-packages.sh

postgres-start:
	@scripts/postgres.sh start

postgres-stop:
	@scripts/postgres.sh stop

clean:
	rm -rf TestResults coverage-report BenchmarkDotNet.Artifacts artifacts
	dotnet clean
