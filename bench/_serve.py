"""`streamlit run`, with a benchmark-only work-around for the process runner under Streamlit (--spawn-fix).

Why: Streamlit installs a fake ``__main__`` module (``__file__`` = dashboard/app.py) while a script runs,
and ``multiprocessing``'s spawn start method re-imports ``__main__.__file__`` in every child. So each worker
process of CNN_PLAYGROUND_RUNNER=process, started from a script run, executes the app itself, whose
``state.manager()`` starts workers again while the child is still bootstrapping: the child dies with
"An attempt has been made to start a new process before the current process has finished its
bootstrapping phase", and every run fails. Here the parent does not tell its children to import a main
module at all (the worker entry point lives in core.runners, found on the inherited sys.path), so the
process runner's memory can be measured. This is not a fix of the app; the benchmarks say when it is used.

    python bench/_serve.py run dashboard/app.py --server.port N ...   (the arguments of `streamlit`)
"""
import multiprocessing.spawn as spawn
import sys

_preparation_data = spawn.get_preparation_data


def _without_main(name):
    data = _preparation_data(name)
    data.pop("init_main_from_path", None)
    data.pop("init_main_from_name", None)
    return data


spawn.get_preparation_data = _without_main

if __name__ == "__main__":
    from streamlit.web.cli import main

    main(prog_name="streamlit")
