"""recommended_threads: one thread per core that the load average does not show as busy."""

import subprocess
import sys

import pytest

from clearformer.inference.threads import recommended_threads


@pytest.mark.parametrize(
    "load,cores,expected",
    [(0.0, 2, 2), (0.4, 2, 2), (1.0, 2, 1), (1.9, 2, 1), (5.0, 2, 1), (2.2, 8, 6), (0.0, 1, 1)],
)
def test_busy_cores_by_the_load_average_are_left_to_their_owners(load, cores, expected):
    assert recommended_threads(load=load, cores=cores) == expected


def test_the_command_line_sets_the_thread_count_it_is_given():
    code = (
        "import sys, torch; from clearformer.cli import main; main(['--threads', '1', 'bench', '--list']); "
        "print(torch.get_num_threads(), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stderr.strip().splitlines()[-1] == "1"


def test_a_bad_thread_count_is_refused_with_the_choices():
    from clearformer.cli import main

    with pytest.raises(SystemExit, match="positive number or 'auto'"):
        main(["--threads", "0", "bench", "--list"])
