"""DX-RT v3.0's Python API: Configuration, DeviceStatus, the v3 engine
methods, and DX-RT's behaviour where ActorRT used to differ (implicit batch
in run, run firing the callback, the bit-match mask's layout,
parse_model printing)."""

import threading

import numpy as np
import pytest

import dx_engine
from conftest import key_of, keyed, model
from dx_engine import Configuration, DeviceStatus, InferenceEngine, InferenceOption
from dx_engine.utils import parse_model


def test_configuration_items_attributes_and_versions(tmp_path):
    config = Configuration()
    assert config.get_version() == dx_engine.__version__
    assert config.get_driver_version() == ""
    assert config.get_pcie_driver_version() == ""
    assert config.get_firmware_versions() == []
    assert isinstance(config.get_onnx_runtime_version(), str)
    # One configuration per process, whichever handle reads it.
    config.set_enable(Configuration.ITEM.SHOW_PROFILE, True)
    assert Configuration().get_enable(Configuration.ITEM.SHOW_PROFILE)
    config.set_enable(Configuration.ITEM.SHOW_PROFILE, False)
    config.set_attribute(Configuration.ITEM.PROFILER,
                         Configuration.ATTRIBUTE.PROFILER_SHOW_DATA, "ON")
    assert config.get_attribute(Configuration.ITEM.PROFILER,
                                Configuration.ATTRIBUTE.PROFILER_SHOW_DATA) == "ON"
    config.set_attribute(Configuration.ITEM.PROFILER,
                         Configuration.ATTRIBUTE.PROFILER_SHOW_DATA, "OFF")
    with pytest.raises(ValueError, match="unknown Configuration item"):
        config.set_enable(42, True)
    with pytest.raises(ValueError, match="ON or OFF"):
        config.set_attribute(Configuration.ITEM.PROFILER,
                             Configuration.ATTRIBUTE.PROFILER_SAVE_DATA, "yes")
    with pytest.raises(TypeError):
        config.set_enable("PROFILER", True)
    with pytest.raises(RuntimeError, match="multi-process service"):
        config.set_enable(Configuration.ITEM.SERVICE, True)
    assert not config.get_enable(Configuration.ITEM.SERVICE)
    with pytest.raises(FileNotFoundError):
        config.load_config_file(str(tmp_path / "missing.cfg"))
    bad = tmp_path / "bad.cfg"
    bad.write_text("ENABLE_PROFILER=perhaps\n")
    with pytest.raises(ValueError, match="bad.cfg:1"):
        config.load_config_file(str(bad))


def test_show_model_info_and_show_profile_print(sim, tiny, capsys):
    config = Configuration()
    config.set_enable(Configuration.ITEM.SHOW_MODEL_INFO, True)
    config.set_enable(Configuration.ITEM.SHOW_PROFILE, True)
    try:
        with InferenceEngine(tiny) as ie:
            ie.run(keyed(ie, 1))
        out = capsys.readouterr().out
        assert "Model Input Tensors" in out and "input" in out
        assert "1 jobs, 0 failed" in out
    finally:
        config.set_enable(Configuration.ITEM.SHOW_MODEL_INFO, False)
        config.set_enable(Configuration.ITEM.SHOW_PROFILE, False)


def test_device_status_reports_cores_and_jobs(sim, tiny):
    sim("sim:2,sim:3")
    option = InferenceOption()
    option.devices = [1]
    with InferenceEngine(tiny, option) as ie:
        for k in range(6):
            ie.run(keyed(ie, k))
        assert DeviceStatus.get_device_count() == 2
        status = DeviceStatus.get_current_status(1)
        assert status.get_id() == 1 and status.get_npu_count() == 3
        cores = [status.get_core(c) for c in range(3)]
        assert sum(c["jobs_done"] for c in cores) == 6
        assert all(c["alive"] and c["simulated"] for c in cores)
        assert "NPU 2: running" in str(status)
        with pytest.raises(RuntimeError, match="voltage"):
            status.get_npu_voltage(0)
        with pytest.raises(RuntimeError, match="temperature"):
            status.get_temperature(0)  # a simulated core has no sensor
        with pytest.raises(ValueError, match="no core 3"):
            status.get_core(3)
        with pytest.raises(ValueError, match="no device 2"):
            DeviceStatus.get_current_status(2)
        with pytest.raises(TypeError):
            DeviceStatus.get_current_status("0")


def test_run_takes_a_flat_list_as_a_batch(sim, tiny):
    with InferenceEngine(tiny) as ie:
        items = [keyed(ie, k)[0] for k in range(5)]
        results = ie.run(items)  # DX-RT v3: five jobs, not five inputs
        assert [key_of(r) for r in results] == list(range(5))
        buffers = [[np.empty(ie.get_output_size(), np.uint8)] for _ in items]
        results = ie.run(items, output_buffers=buffers)
        assert key_of(results[3]) == 3
        assert np.shares_memory(results[3][0], buffers[3][0])


def test_multi_input_batches_by_groups_and_validate_by_name(monkeypatch):
    monkeypatch.setenv("ACTORRT_DEVICES", "cpu:1")
    with InferenceEngine(model("multi_io")) as ie:
        image = np.full((1, 3, 16, 16), 0.5, np.float32)
        features = np.ones((1, 8), np.float32)
        one = ie.run([image, features])  # one job: an array per input
        assert [o.shape for o in one] == [(1, 4, 16, 16), (1, 5)]
        two = ie.run([image, features, image, features])
        assert len(two) == 2 and np.array_equal(two[1][1], one[1])
        assert ie.get_input_tensor_to_task_mapping() == {"image": "npu_0",
                                                         "features": "npu_0"}
        assert ie.get_model_version().startswith("ONNX opset ")
        out = ie.validate_device_multi_input({"image": image, "features": features})
        assert np.array_equal(out[1], one[1])
        with pytest.raises(ValueError, match="missing"):
            ie.validate_device_multi_input({"image": image})


def test_run_fires_the_callback_with_its_user_arg(sim, tiny):
    seen = []
    done = threading.Event()
    with InferenceEngine(tiny) as ie:
        def on_done(outputs, user_arg):
            seen.append((key_of(outputs), user_arg))
            done.set()
        ie.register_callback(on_done)
        outputs = ie.run(keyed(ie, 5))
        assert key_of(outputs) == 5
        assert seen == [(5, None)]  # before run returned
        ie.run(keyed(ie, 6), user_args="six")
        ie.run_multi_input({"input": keyed(ie, 7)[0].view(np.float32).reshape(1, 3, 32, 32)},
                           user_arg=[7])
        assert seen[1] == (6, "six") and seen[2] == (7, [7])


def test_engine_and_option_handles(sim, tiny):
    option = InferenceOption()
    assert option.instance is option
    option.instance.useORT = False
    assert option.use_ort is False and option.useORT is False
    option.boundOption = InferenceOption.BOUND_OPTION.NPU_1
    assert option.bound_option == InferenceOption.BOUND_OPTION.NPU_1
    with InferenceEngine(tiny, option) as ie:
        assert ie.engine is ie
        assert ie.engine.get_input_size() == 3 * 32 * 32 * 4


def test_parse_model_prints_and_returns_an_int(tiny, capsys):
    assert parse_model(tiny) == 0
    assert "input size 12288 bytes" in capsys.readouterr().out
    with pytest.raises(FileNotFoundError):
        parse_model(tiny + ".missing")
