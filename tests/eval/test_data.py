from __future__ import annotations

from pathlib import Path

from eval import data


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "stsb").mkdir()
    (tmp_path / "stsb" / "sts-dev.csv").write_text(
        'main-captions\tMSRvid\t2012test\t0000\t5.000\tA man "dances".\tA man dances.\n'
        "main-news\theadlines\t2013\t0001\t1.5\tOne.\tTwo.\tsrc-a\tsrc-b\n"
    )
    (tmp_path / "mrpc").mkdir()
    (tmp_path / "mrpc" / "msr_paraphrase_train.txt").write_text(
        '\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\tHe said "yes".\tHe agreed.\n0\t3\t4\tA\tB\n'
    )
    (tmp_path / "banking77").mkdir()
    (tmp_path / "banking77" / "train.csv").write_text('text,category\n"Where is my card, please?",card_arrival\n')
    (tmp_path / "ttadp").mkdir()
    (tmp_path / "ttadp" / "goals.csv").write_text('goal,topics\n"Improve, then sustain",Other\nA goal,"X | Y"\n')
    return tmp_path


def test_data_reads_each_format_as_published(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    assert data.stsb(folder) == data.Pairs(['A man "dances".', "One."], ["A man dances.", "Two."], [5.0, 1.5])
    assert data.mrpc(folder) == data.Pairs(['He said "yes".', "A"], ["He agreed.", "B"], [1.0, 0.0])
    assert data.banking77(folder) == (["Where is my card, please?"], ["card_arrival"])
    assert data.goals(folder) == ["Improve, then sustain", "A goal"]
