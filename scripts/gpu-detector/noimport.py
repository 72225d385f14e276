import sys, runpy
for m in ("tensorflow", "keras", "ai_edge_litert", "onnxruntime", "tflite_runtime", "paho", "tf2onnx"):
    sys.modules[m] = None
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
