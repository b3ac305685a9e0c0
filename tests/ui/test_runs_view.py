"""The runs view (``e``) and the run diff (``=``) on real stores: a local folder holding
PyTorch Lightning logger folders written as Lightning writes them (support.run_layouts),
detected by the real detection; sorting, marks, the plot's data, the refusal when no
runs are found, going back to the tree at a run, and the diff of two marked runs.

The pure parts (columns that vary, sort order, curve points) are checked on Run records.
"""

from __future__ import annotations

import io
import json
import math
from datetime import timedelta
from pathlib import Path

from rich.console import Console
from textual.widgets import Static

from pail.core.connection import ConnectionSpec
from pail.drivers.registry import open_driver
from pail.services.runs.model import MetricPoint, Run
from pail.ui.screens.run_diff import RunDiffScreen, diff_command
from pail.ui.screens.runs import RunsScreen, SortPicker, default_metric, run_detail
from pail.ui.widgets.metric_plot import MAX_POINTS, MetricPlot, curve_points, plot_series
from pail.ui.widgets.run_table import (
    RunTable,
    sorted_runs,
    table_columns,
    varying_metrics,
    varying_params,
)
from support.fasttrackml import REGISTERED_RUN, mlflow_server_fixture  # noqa: F401
from support.run_layouts import T0, lightning_rows, lightning_version, write_folder
from support.stores import safetensors
from support.ui import (
    SIZE,
    GatedDriver,
    find,
    make_app,
    open_node,
    run,
    s3_spec,
    screen_text,
    select,
    settle,
    tree_of,
    until,
)

# -- a Lightning store ---------------------------------------------------------------------


def lightning_files(base: str = "logs/") -> dict[str, bytes]:
    """Three CSVLogger versions under ``base``lightning_logs/: lr and layers vary,
    batch_size does not; each has checkpoints, a safetensors export (version_2's has a
    wider layer) and a config.json (version_2's optimizer differs)."""
    files: dict[str, bytes] = {}
    for number, (lr, layers, seed) in enumerate(((0.1, 2, 0.3), (0.01, 2, 0.1), (0.001, 3, 0.0))):
        folder = f"{base}lightning_logs/version_{number}/"
        files.update(
            lightning_version(
                folder,
                hparams={"lr": lr, "batch_size": 32, "layers": layers},
                rows=lightning_rows(epochs=3, steps_per_epoch=4, seed=seed),
                checkpoints=[(2, 11)],
            )
        )
        width = 16 if number < 2 else 32
        files[folder + "export/model.safetensors"] = safetensors(
            {"head.weight": ("F32", [width, 8]), "head.bias": ("F32", [width])}
        )
        optimizer = "adam" if number < 2 else "sgd"
        config = {"optimizer": {"name": optimizer, "lr": lr}, "seed": 7}
        files[folder + "config.json"] = json.dumps(config, indent=2).encode()
    return files


def version_times(base: str = "logs/") -> dict[str, object]:
    """Each version an hour after the previous one (its objects' times)."""
    return {f"{base}lightning_logs/version_{n}/": T0 + timedelta(hours=n) for n in range(3)}


def lightning_folder(tmp_path: Path) -> ConnectionSpec:
    """A local store: bucket ``b`` with the Lightning logs under ``logs/`` and a file
    outside any run under ``notes/``."""
    bucket = tmp_path / "data" / "b"
    write_folder(bucket, lightning_files(), version_times())
    write_folder(bucket, {"notes/readme.txt": b"hello\n", "logs/README.md": b"# logs\n"})
    return ConnectionSpec(name="disk", provider="local", root=str(tmp_path / "data"))


async def open_runs(pilot, *path: str) -> RunsScreen:
    """Open ``path``'s nodes, press e on the last one, wait for detection to finish."""
    app = pilot.app
    await settle(pilot)
    for number in range(1, len(path)):
        await open_node(pilot, find(app, *path[:number]))
    await select(pilot, find(app, *path))
    await pilot.press("e")
    await until(pilot, lambda: isinstance(app.screen, RunsScreen), "the runs view")
    screen = app.screen
    await until(pilot, lambda: not screen.detecting, "detection finished")
    await settle(pilot)
    return screen


def names_in_order(screen: RunsScreen) -> list[str]:
    return [run.name for run in screen.table.order]


# -- the view on a Lightning folder -------------------------------------------------------


def test_runs_of_a_lightning_folder(tmp_path):
    spec = lightning_folder(tmp_path)

    async def body():
        app = make_app([spec])
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_runs(pilot, "disk", "b", "logs/")
            runset = screen.runset
            assert runset is not None and runset.layout == "lightning"
            # the widgets' own text: a long tmp path wraps the title on the screen
            text = "\n".join(
                str(screen.query_one(f"#runs-{part}").render()) for part in ("title", "info")
            )
            assert "Runs · PyTorch Lightning in file://" in text
            assert f"{tmp_path}/data/b/logs/" in text
            # 3 runs, newest first; logs/README.md is in no run.
            assert names_in_order(screen) == ["version_2", "version_1", "version_0"]
            assert "3 runs of experiment lightning_logs" in text
            assert "1 object in no run" in text
            columns = [c.key for c in screen.table.columns_shown]
            assert "param:lr" in columns and "param:layers" in columns
            assert "param:batch_size" not in columns  # the same in every run
            assert "metric:val_loss" in columns and "metric:train_loss" in columns
            assert "experiment" not in columns  # one experiment: named above the table
            # The detail pane shows the run at the cursor: params, metrics, its folder.
            detail = str(screen.query_one("#runs-detail").render())
            assert "version_2" in detail and "lr = 0.001" in detail
            assert f"file://{tmp_path}/data/b/logs/lightning_logs/version_2/" in detail
            assert "val_loss ↓" in detail and "val_acc ↑" in detail
            # The plot shows a validation loss of the run at the cursor.
            assert screen.metric == "val_loss"
            assert screen.plot.series[0].label == "version_2"
            assert screen.plot.series[0].xs == (3.0, 7.0, 11.0)

    run(body())


def test_sorting_by_columns(tmp_path):
    spec = lightning_folder(tmp_path)

    async def body():
        app = make_app([spec])
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_runs(pilot, "disk", "b", "logs/")
            table = screen.table
            assert table.sort_key == "start" and table.descending
            await pilot.press("R")
            assert names_in_order(screen) == ["version_0", "version_1", "version_2"]
            assert "sorted by start (UTC), reversed" in screen_text(app)
            await pilot.press("S")  # the next column: duration
            assert table.sort_key == "duration"
            # Pick a metric from the list: a loss sorts best (lowest) first.
            await pilot.press("O")
            await until(pilot, lambda: isinstance(app.screen, SortPicker), "the sort list")
            picker = app.screen
            options = picker.query_one("#runs-sort-list")
            keys = [options.get_option_at_index(i).id for i in range(options.option_count)]
            options.highlighted = keys.index("metric:val_loss")
            await pilot.press("enter")
            await until(pilot, lambda: app.screen is screen, "back from the list")
            assert names_in_order(screen) == ["version_2", "version_1", "version_0"]
            assert "sorted by val_loss (final), best first" in screen_text(app)
            await pilot.press("R")
            assert names_in_order(screen) == ["version_0", "version_1", "version_2"]
            assert "worst first" in screen_text(app)
            # A param sorts as numbers when every value is one (0.001 < 0.01 < 0.1).
            table.sort_by("param:lr")
            assert names_in_order(screen) == ["version_2", "version_1", "version_0"]
            # A click on a header sorts by that column; a second click reverses.
            x = 0
            for key, column in table.columns.items():
                if key.value == "size":
                    break
                x += column.get_render_width(table)
            await pilot.click(RunTable, offset=(x + 2, 0))
            assert (table.sort_key, table.descending) == ("size", True)
            await pilot.click(RunTable, offset=(x + 2, 0))
            assert (table.sort_key, table.descending) == ("size", False)
            assert "sorted by size, reversed" in screen_text(app)

    run(body())


def test_marks_the_plot_overlay_and_the_metric_key(tmp_path):
    spec = lightning_folder(tmp_path)

    async def body():
        app = make_app([spec])
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_runs(pilot, "disk", "b", "logs/")
            table = screen.table
            await pilot.press("space")  # version_2 is A; the cursor moves down
            await pilot.press("space")  # version_1 is B
            await settle(pilot)
            assert table.marks == ["version_2", "version_1"]
            assert [table.mark_of(r) for r in table.order] == ["A", "B", ""]
            assert table.get_cell("version_2", "mark").plain == "A"
            app._notifications.clear()
            await pilot.press("space")  # a third: refused, said why
            await until(pilot, lambda: app._notifications, "a word on the third mark")
            message = [n.message for n in app._notifications][-1]
            assert message.startswith("Two runs are marked (version_2 and version_1)")
            assert table.marks == ["version_2", "version_1"]
            # The cursor (version_0) is plotted with A overlaid, step on x.
            assert table.cursor_run().name == "version_0"
            plotted = [s.label for s in screen.plot.series]
            assert plotted == ["version_0", "version_2"]
            legend = str(screen.query_one("#runs-legend").render())
            assert legend == "━━ version_0  ━━ version_2"
            runs = {r.name: r for r in screen.runset.runs}
            xs, ys = curve_points(runs["version_0"], "val_loss")
            assert screen.plot.series[0].xs == tuple(xs) and screen.plot.series[0].ys == tuple(ys)
            expected = [0.9 / (epoch + 1) + 0.3 for epoch in range(3)]  # seed 0.3
            assert all(math.isclose(a, b) for a, b in zip(ys, expected, strict=True))
            # M plots the next metric in name order, round to the first again.
            await pilot.press("M")
            assert screen.metric == "train_loss" and screen.plot.metric == "train_loss"
            assert screen.plot.series[0].xs == tuple(float(s) for s in range(12))
            await pilot.press("M")
            assert screen.metric == "val_acc"
            await pilot.press("M")
            assert screen.metric == "val_loss"
            # u clears the marks; the plot keeps the cursor's run only.
            await pilot.press("u")
            await settle(pilot)
            assert table.marks == [] and [s.label for s in screen.plot.series] == ["version_0"]

    run(body())


def test_enter_goes_back_to_the_tree_at_the_run(tmp_path):
    spec = lightning_folder(tmp_path)

    async def body():
        app = make_app([spec])
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_runs(pilot, "disk", "b", "logs/")
            await pilot.press("down")  # version_1
            await pilot.press("enter")
            await until(pilot, lambda: app.screen is app.main_screen, "back to the tree")
            tree = tree_of(app)
            await until(
                pilot,
                lambda: (
                    tree.cursor_node is not None
                    and tree.cursor_node.data is not None
                    and tree.cursor_node.data.key == "logs/lightning_logs/version_1/"
                ),
                "the cursor on the run's folder",
            )
            assert screen.runset is not None

    run(body())


def test_no_runs_found_says_so_and_shows_no_table(tmp_path):
    bucket = tmp_path / "data" / "b"
    write_folder(bucket, {"docs/a.txt": b"a", "docs/sub/b.txt": b"b", "docs/run_1/c.bin": b"c"})
    spec = ConnectionSpec(name="disk", provider="local", root=str(tmp_path / "data"))

    async def body():
        app = make_app([spec])
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_runs(pilot, "disk", "b", "docs/")
            assert screen.runset is not None and not screen.runset.runs
            assert not screen.query_one("#runs-body").display
            text = screen_text(app)
            assert f"No runs found under file://{tmp_path}/data/b/docs/" in text
            assert "Seen: 3 objects, none in a layout pail knows." in text
            assert "pail recognises MLflow/FastTrackML, ZenML, modelkit, PyTorch Lightning" in text
            app._notifications.clear()
            await pilot.press("S")  # nothing to sort: said so
            await until(pilot, lambda: app._notifications, "a word on S")
            assert [n.message for n in app._notifications][-1] == "S (Sort): no runs here"
            await pilot.press("q")
            await until(pilot, lambda: app.screen is app.main_screen, "back")

    run(body())


def test_detection_shows_its_progress_and_stops_with_x(tmp_path):
    spec = lightning_folder(tmp_path)
    gated: list[GatedDriver] = []

    def factory(s):
        gated.append(GatedDriver(open_driver(s), prefixes=("logs/lightning_logs/",)))
        return gated[-1]

    async def body():
        app = make_app([spec], factory)
        try:
            async with app.run_test(size=SIZE) as pilot:
                await settle(pilot)
                await open_node(pilot, find(app, "disk", "b"))
                await select(pilot, find(app, "disk", "b", "logs/"))
                await pilot.press("e")
                await until(pilot, lambda: isinstance(app.screen, RunsScreen), "the runs view")
                screen = app.screen
                await until(pilot, lambda: gated[-1].waiting.is_set(), "the listing waits")
                await until(
                    pilot, lambda: "listing… 1 object" in screen_text(app), "the running count"
                )
                await pilot.press("x")
                await until(pilot, lambda: not screen.detecting, "stopped")
                await pilot.pause()
                text = screen_text(app)
                assert "Detection stopped after 1 object listed." in text
                assert screen.runset is None
                gated[-1].gate.set()
                app._notifications.clear()
                await pilot.press("r")  # again, with the listing free
                await until(pilot, lambda: screen.runset is not None, "detected")
                assert len(screen.runset.runs) == 3
                await until(pilot, lambda: app._notifications, "a word on r")
                assert [n.message for n in app._notifications][-1] == "Detected again: 3 runs."
        finally:
            for driver in gated:
                driver.gate.set()

    run(body())


def plain_text(renderable) -> str:
    """What rich draws for ``renderable`` (a Text, a table, a group) at 300 columns."""
    console = Console(width=300, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.file.getvalue()


def test_the_diff_of_two_marked_runs(tmp_path):
    spec = lightning_folder(tmp_path)

    async def body():
        app = make_app([spec])
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_runs(pilot, "disk", "b", "logs/")
            app._notifications.clear()
            await pilot.press("equals_sign")  # nothing marked: says what to do
            await until(pilot, lambda: app._notifications, "a word on =")
            assert "mark two runs with space" in [n.message for n in app._notifications][-1]
            await pilot.press("down", "down", "space")  # version_0 is A
            await pilot.press("up", "up")  # the cursor on version_2: B
            await pilot.press("equals_sign")
            await until(pilot, lambda: isinstance(app.screen, RunDiffScreen), "the diff")
            diff_screen = app.screen
            await until(pilot, lambda: not diff_screen.computing, "compared")
            await settle(pilot)
            diff = diff_screen.diff
            assert diff is not None
            assert (diff.a.name, diff.b.name) == ("version_0", "version_2")
            body_text = str(diff_screen.query_one("#diff-body").render())
            # the widgets' whole content, wide: a long tmp path wraps lines and scrolls the
            # screen
            text = "\n".join(
                plain_text(diff_screen.query_one(f"#diff-{part}", Static).content)
                for part in ("title", "body")
            )
            assert "Diff of version_0 (A) and version_2 (B)" in text
            for heading in ("Params", "Metrics", "Files", "Tensors", "Config keys"):
                assert heading in text, heading
            assert "2 changed, 1 the same" in text  # lr and layers; batch_size the same
            assert "export/model.safetensors" in text and "[16, 8]" in text and "[32, 8]" in text
            assert "optimizer.name" in text and '"adam"' in text and '"sgd"' in text
            assert body_text  # drawn
            await pilot.press("y")
            await until(pilot, lambda: app.clipboard, "copied")
            assert app.clipboard == (
                f"pail diff file://{tmp_path}/data/b/logs/ version_0 version_2"
            )
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is screen, "back to the runs")
            await pilot.press("c")  # the URI of the run at the cursor (version_2)
            uri = f"file://{tmp_path}/data/b/logs/lightning_logs/version_2/"
            await until(pilot, lambda: app.clipboard == uri, "the run's URI copied")

    run(body())


def test_runs_with_a_tracking_server(mlflow_server, s3_endpoint, monkeypatch):
    """MLflow's own server (runs logged by MLflow's client, artifacts in moto): names,
    statuses and metrics come from the server, the run behind a registered model version
    says why it is kept, and the title names the server."""
    bucket = mlflow_server.bucket
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_runs(pilot, "moto", bucket, mlflow_server.root)
            runset = screen.runset
            assert runset is not None and runset.tracking == mlflow_server.uri
            text = screen_text(app)
            assert "Runs · MLflow / FastTrackML in s3://mlflow-artifacts/mlflow-server/" in text
            assert f"tracking server {mlflow_server.uri}" in text
            table = screen.table
            assert sorted(r.name for r in table.order) == sorted(r.name for r in mlflow_server.runs)
            assert "experiment" in [c.key for c in table.columns_shown]  # two experiments
            statuses = {r.name: table.get_cell(r.id, "status").plain for r in table.order}
            assert statuses["lr-0.1"] == "FAILED" and statuses["bert-large"] == "RUNNING"
            baseline = next(r for r in table.order if r.name == REGISTERED_RUN)
            assert table.get_cell(baseline.id, "name").plain == "baseline ⚑"
            table.move_cursor(row=table.order.index(baseline))
            await settle(pilot)
            detail = str(screen.query_one("#runs-detail").render())
            assert "kept     backs registered model mnist-classifier version 1" in detail
            assert "tracking server" in detail  # among the sources
            # Each run plots a metric it logged: the chosen one, else its own loss.
            assert screen.plotted_metric() == "val_loss"
            assert [s.label for s in screen.plot.series] == ["baseline"]
            bert = next(r for r in table.order if r.name == "bert-base")
            table.move_cursor(row=table.order.index(bert))
            await settle(pilot)
            assert screen.plotted_metric() == "eval/loss"
            assert len(screen.plot.series[0].xs) == 120

    run(body())


# -- the pure parts ----------------------------------------------------------------------------


def _run(name: str, **fields) -> Run:
    return Run(id=name, name=name, layout="lightning", prefixes=(f"{name}/",), **fields)


def test_columns_show_what_varies():
    a = _run("a", params={"lr": "0.1", "bs": "32"}, metrics={"loss": [MetricPoint(1, 0.5)]})
    b = _run("b", params={"lr": "0.2", "bs": "32"}, metrics={"loss": [MetricPoint(1, 0.5)]})
    c = _run("c", params={"lr": "0.1", "bs": "32", "extra": "x"})
    assert varying_params([a, b]) == ["lr"]
    assert varying_params([a, b, c]) == ["extra", "lr"]  # absent is a value
    assert varying_metrics([a, b]) == []
    assert varying_metrics([a, c]) == ["loss"]
    assert varying_params([a]) == ["bs", "lr"]  # one run: everything
    keys = [column.key for column in table_columns([a, b, c])]
    assert keys[:7] == ["mark", "name", "start", "duration", "objects", "size", "status"]
    assert keys[7:] == ["param:extra", "param:lr", "metric:loss"]


def test_sorting_puts_unknown_values_last_either_way():
    a = _run("a", params={"lr": "0.1"}, metrics={"acc": [MetricPoint(1, 0.7)]})
    b = _run("b", params={"lr": "1e-3"}, metrics={"acc": [MetricPoint(1, 0.9)]})
    c = _run("c", params={"lr": "x"})
    d = _run("d")
    columns = {column.key: column for column in table_columns([a, b, c, d])}
    acc = columns["metric:acc"]
    assert [r.name for r in sorted_runs([a, b, c, d], acc, True)] == ["b", "a", "c", "d"]
    assert [r.name for r in sorted_runs([a, b, c, d], acc, False)] == ["a", "b", "c", "d"]
    lr = columns["param:lr"]  # "x" is not a number: text order
    assert [r.name for r in sorted_runs([a, b, c, d], lr, False)] == ["a", "b", "c", "d"]
    assert [r.name for r in sorted_runs([a, b, d], lr, False)] == ["b", "a", "d"]  # numbers


def test_curve_points_drop_nan_keep_the_last_value_of_a_step_and_stay_bounded():
    points = [
        MetricPoint(3, 0.3),
        MetricPoint(1, 0.1),
        MetricPoint(2, float("nan")),
        MetricPoint(1, 0.15),  # logged again at step 1: the last one counts
        MetricPoint(None, 9.0),  # no step among stepped points: left out
        MetricPoint(4, float("inf")),
    ]
    run_ = _run("a", metrics={"loss": points})
    assert curve_points(run_, "loss") == ([1.0, 3.0], [0.15, 0.3])
    assert curve_points(run_, "missing") == ([], [])
    unstepped = _run("b", metrics={"loss": [MetricPoint(None, v) for v in (3.0, 2.0, 1.0)]})
    assert curve_points(unstepped, "loss") == ([0.0, 1.0, 2.0], [3.0, 2.0, 1.0])
    series = plot_series([unstepped], "loss")
    assert not series[0].stepped
    many = _run("c", metrics={"loss": [MetricPoint(s, 1.0 / (s + 1)) for s in range(10_000)]})
    xs, ys = curve_points(many, "loss")
    assert len(xs) == MAX_POINTS and xs[0] == 0.0 and xs[-1] == 9999.0
    assert xs == sorted(xs) and all(y == 1.0 / (x + 1) for x, y in zip(xs, ys, strict=True))
    assert plot_series([_run("d"), many], "loss")[0].label == "c"  # runs without it left out


def test_labels_and_details_are_plain_text():
    evil = _run(
        "\x1b[31mred[/bold]",
        params={"[b]x[/b]": "\x1b]52;c;AAAA\x07"},
        metrics={"loss": [MetricPoint(1, 0.5)]},
        status="FINISHED",
    )
    series = plot_series([evil], "loss")
    assert "\x1b" not in series[0].label and "␛" in series[0].label
    detail = run_detail(evil, lambda key: f"s3://b/{key}")
    assert "\x1b" not in detail.plain and "\x07" not in detail.plain
    assert "[b]x[/b] = " in detail.plain  # shown as typed, not as markup
    plot = MetricPlot()
    plot.show("loss", [evil])
    assert plot.series == series and plot.empty_reason == ""
    plot.show("acc", [evil])
    assert plot.series == [] and plot.empty_reason == "acc: no finite values logged"


def test_the_metric_plotted_first_and_the_diff_command():
    assert default_metric(["acc", "train_loss", "val_loss"]) == "val_loss"
    assert default_metric(["retrieval_loss", "eval/loss"]) == "eval/loss"
    assert default_metric(["retrieval_loss", "x"]) == "retrieval_loss"  # "retrieval" is no val
    assert default_metric(["acc", "train_loss"]) == "train_loss"
    assert default_metric(["acc", "f1"]) == "acc"
    assert default_metric([]) is None
    a, b = _run("run a"), _run("b")
    s3 = ConnectionSpec(name="lab", provider="s3", endpoint_url="http://minio:9000")
    assert diff_command(s3, "bkt", "exp/", a, b) == (
        "pail diff s3://bkt/exp/ 'run a' b --endpoint-url http://minio:9000"
    )
    saved = ConnectionSpec(name="lab", provider="s3", saved=True)
    assert diff_command(saved, "bkt", "exp/", a, b) == "pail diff lab:bkt/exp/ 'run a' b"
