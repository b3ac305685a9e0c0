"""The issue's "done when" in the app, end to end on moto over HTTP: a connection whose
write settings say SSE-KMS uploads a training output folder (U), every object is stored
encrypted with the key and proved by a checksum, and comparing the prefix with the local
folder (=) finds everything identical; then the checkpoint is promoted to another bucket
(F5, server-side) and the run prefix renamed (F2), sources gone only once verified."""

from __future__ import annotations

from pail.ui.screens.check import CheckScreen
from pail.ui.screens.rename import TextInputScreen
from support.servers import s3_client, seed_keys
from support.transfers import confirm, finished, keys_of, pick
from support.ui import SIZE, find, make_app, open_node, run, s3_spec, select, settle, until


def test_upload_with_sse_kms_check_promote_and_rename(s3_endpoint, tmp_path):
    seed_keys("lab", {"runs/readme.txt": b"runs live here\n"})
    seed_keys("models", {})
    out = tmp_path / "run-7"
    (out / "ckpt").mkdir(parents=True)
    files = {
        "config.json": b'{"lr": 0.1}\n',
        "metrics.csv": b"step,loss\n1,0.9\n2,0.5\n",
        "ckpt/model.pt": bytes(range(256)) * 4096,  # 1 MiB
    }
    for rel, data in files.items():
        (out / rel).write_bytes(data)
    write = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/ml"}

    async def body():
        app = make_app([s3_spec(s3_endpoint, write_args=write)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "lab"))
            await select(pilot, find(app, "moto", "lab", "runs/"))
            await pilot.press("U")
            await until(pilot, lambda: isinstance(app.screen, TextInputScreen), "path")
            app.screen.query_one("Input").value = str(out)
            await pilot.press("enter")
            await confirm(pilot)
            task = await finished(pilot)
            report = task.report
            assert report.ok and len(report.done) == 3
            # Proved by what the store reports, never accepted unverified.
            assert {d.verified for d in report.done} <= {"crc64nvme", "md5", "multipart-md5"}
            client = s3_client(s3_endpoint)
            for rel in files:
                head = client.head_object(Bucket="lab", Key=f"runs/run-7/{rel}")
                assert head["ServerSideEncryption"] == "aws:kms"
                assert head["SSEKMSKeyId"] == "alias/ml"
            await pilot.press("escape")

            # = : the uploaded prefix against the local folder: all identical.
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "lab", "runs/"))
            await select(pilot, find(app, "moto", "lab", "runs/", "run-7/"))
            await pilot.press("equals_sign")
            await pick(pilot, str(out))
            await until(pilot, lambda: isinstance(app.screen, CheckScreen), "check screen")
            check = app.screen
            await until(pilot, lambda: check.report is not None, "compared")
            assert check.report.all_identical and len(check.report.identical) == 3
            await pilot.press("escape")

            # F5: promote the checkpoint to the models bucket, inside the store.
            await open_node(pilot, find(app, "moto", "lab", "runs/", "run-7/"))
            await open_node(pilot, find(app, "moto", "lab", "runs/", "run-7/", "ckpt/"))
            await select(pilot, find(app, "moto", "lab", "runs/", "run-7/", "ckpt/", "model.pt"))
            await pilot.press("f5")
            await pick(pilot, "moto:models/resnet/")
            plan = await confirm(pilot)
            assert "(server-side)" in plan
            task = await finished(pilot)
            assert task.report.ok
            assert keys_of(s3_endpoint, "models") == {"resnet/model.pt": files["ckpt/model.pt"]}
            await pilot.press("escape")

            # F2: rename the run prefix; every key moves, none is lost.
            await select(pilot, find(app, "moto", "lab", "runs/", "run-7/"))
            await pilot.press("f2")
            await until(pilot, lambda: isinstance(app.screen, TextInputScreen), "new name")
            app.screen.query_one("Input").value = "run-7-resnet"
            await pilot.press("enter")
            await confirm(pilot)
            task = await finished(pilot)
            assert task.report.ok and len(task.report.deleted) == 3
            moved = keys_of(s3_endpoint, "lab", "runs/")
            assert moved == {
                "runs/readme.txt": b"runs live here\n",
                **{f"runs/run-7-resnet/{rel}": data for rel, data in files.items()},
            }

    run(body())
