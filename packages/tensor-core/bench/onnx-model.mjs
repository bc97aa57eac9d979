/**
 * Single-operator ONNX models built in-process for the onnxruntime-web peer, so the bench
 * needs no model files and no Python. protobufjs encodes them from the subset of onnx.proto
 * below (field numbers as in github.com/onnx/onnx/blob/main/onnx/onnx.proto); onnxruntime-web
 * loads the bytes directly.
 */
import protobuf from 'protobufjs'

const SCHEMA = `
syntax = "proto3";
package onnx;
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
message ModelProto {
  int64 ir_version = 1;
  string producer_name = 2;
  GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
}
message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  repeated AttributeProto attribute = 5;
}
message AttributeProto {
  string name = 1;
  int64 i = 3;
  repeated int64 ints = 8;
  int32 type = 20;
}
message ValueInfoProto { string name = 1; TypeProto type = 2; }
message TypeProto { Tensor tensor_type = 1; message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; } }
message TensorShapeProto { repeated Dimension dim = 1; message Dimension { int64 dim_value = 1; } }
`

const Model = protobuf.parse(SCHEMA).root.lookupType('onnx.ModelProto')
const FLOAT = 1 // TensorProto.DataType.FLOAT, as ValueInfo's elem_type
const ATTR_INTS = 7 // AttributeProto.AttributeType.INTS
const IR_VERSION = 8
const OPSET = 17

const valueInfo = (name, dims) => ({ name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } })
const ints = (name, values) => ({ name, type: ATTR_INTS, ints: values })

function encode({ name, node, inputs, output }) {
  const message = {
    irVersion: IR_VERSION,
    producerName: 'tessera-bench',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: { name, node: [node], input: inputs.map(([n, d]) => valueInfo(n, d)), output: [valueInfo(...output)] },
  }
  const err = Model.verify(message)
  if (err) throw new Error(`ONNX model ${name}: ${err}`)
  return Model.encode(Model.create(message)).finish()
}

/** Y[m,n] = A[m,k] · B[k,n], both operands graph inputs (as Tessera's matmul takes two tensors). */
export function matmulModel({ m, k, n }) {
  return encode({
    name: 'matmul',
    node: { name: 'mm', opType: 'MatMul', input: ['A', 'B'], output: ['Y'] },
    inputs: [
      ['A', [m, k]],
      ['B', [k, n]],
    ],
    output: ['Y', [m, n]],
  })
}

/** Y = conv2d(X NCHW, W OIHW), stride 1, symmetric padding, no bias: Tessera's conv2d. */
export function convModel(c) {
  const ho = c.h + 2 * c.padding - c.kernel + 1
  const wo = c.w + 2 * c.padding - c.kernel + 1
  return encode({
    name: 'conv',
    node: {
      name: 'conv',
      opType: 'Conv',
      input: ['X', 'W'],
      output: ['Y'],
      attribute: [ints('kernel_shape', [c.kernel, c.kernel]), ints('pads', [c.padding, c.padding, c.padding, c.padding]), ints('strides', [1, 1])],
    },
    inputs: [
      ['X', [c.batch, c.cin, c.h, c.w]],
      ['W', [c.cout, c.cin, c.kernel, c.kernel]],
    ],
    output: ['Y', [c.batch, c.cout, ho, wo]],
  })
}
