from parley.cli import main

# Guarded: `parley serve --workers` starts its workers with multiprocessing's spawn, which
# imports the parent's main module again in every worker.
if __name__ == "__main__":
    raise SystemExit(main())
