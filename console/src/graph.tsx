// A workflow's graph drawn from its definition with React Flow: each node shows its step
// type, its status in a run, and the validation problems pinned to it.
import {
  Background,
  Controls,
  Handle,
  Position,
  ReactFlow,
  useNodesInitialized,
  useNodesState,
  useReactFlow,
  type Edge,
  type Node,
  type NodeProps,
} from "@xyflow/react";
import { useEffect, useMemo } from "react";
import type { Definition, FlowNode } from "./types";

interface StepData extends Record<string, unknown> {
  label: string;
  type: string;
  status?: string;
  problems: string[];
  selected: boolean;
}

function StepNode({ data }: NodeProps<Node<StepData>>) {
  const classes = ["step", `status-${data.status ?? "none"}`];
  if (data.problems.length) classes.push("has-problems");
  if (data.selected) classes.push("chosen");
  return (
    <div className={classes.join(" ")} data-status={data.status ?? ""}>
      <Handle type="target" position={Position.Left} />
      <strong>{data.label}</strong>
      <span className="step-type">{data.type}</span>
      {data.status && <span className="step-status">{data.status}</span>}
      {data.problems.map((message) => (
        <span key={message} className="step-problem" role="note">
          ⚠ {message}
        </span>
      ))}
      <Handle type="source" position={Position.Right} />
    </div>
  );
}

const NODE_TYPES = { step: StepNode };

// Fits the whole graph in view once every node has been measured (and again when a node
// is measured anew): `fitView` alone fits whatever was measured first.
function FitWhenMeasured({ count }: { count: number }) {
  const measured = useNodesInitialized();
  const { fitView } = useReactFlow();
  useEffect(() => {
    if (measured) void fitView({ maxZoom: 1.2 });
  }, [measured, count, fitView]);
  return null;
}

// Definitions written by hand or by API often leave every node at (0, 0): lay them out in
// columns by their distance from a start, unless their own positions are all distinct.
function positions(definition: Definition): Map<string, { x: number; y: number }> {
  const nodes = definition.nodes ?? [];
  const given = new Set(nodes.map((node) => `${node.position?.x},${node.position?.y}`));
  if (given.size === nodes.length && nodes.every((node) => node.position)) {
    return new Map(nodes.map((node: FlowNode) => [node.id, node.position!]));
  }
  const depth = new Map<string, number>(nodes.map((node) => [node.id, 0]));
  const edges = definition.edges ?? [];
  for (let pass = 0; pass < nodes.length; pass++) {
    for (const edge of edges) {
      const next = (depth.get(edge.source) ?? 0) + 1;
      if (depth.has(edge.target) && next > depth.get(edge.target)! && next < nodes.length) {
        depth.set(edge.target, next);
      }
    }
  }
  const rows = new Map<number, number>();
  const found = new Map<string, { x: number; y: number }>();
  for (const node of nodes) {
    const column = depth.get(node.id) ?? 0;
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    found.set(node.id, { x: column * 220, y: row * 110 });
  }
  return found;
}

export function WorkflowGraph({
  definition,
  statuses = {},
  problems = {},
  selected,
  onSelect,
  label,
}: {
  definition: Definition;
  statuses?: Record<string, string>;
  problems?: Record<string, string[]>;
  selected?: string | null;
  onSelect?: (stepId: string) => void;
  label: string;
}) {
  const laid = useMemo(() => positions(definition), [definition]);
  const built: Node<StepData>[] = useMemo(
    () =>
      (definition.nodes ?? []).map((node) => ({
        id: node.id,
        type: "step",
        position: laid.get(node.id) ?? { x: 0, y: 0 },
        data: {
          label: node.data?.label || node.id,
          type: node.type,
          status: statuses[node.id],
          problems: problems[node.id] ?? [],
          selected: selected === node.id,
        },
        draggable: false,
        connectable: false,
        ariaLabel: `${node.data?.label || node.id}: ${node.type}${
          statuses[node.id] ? `, ${statuses[node.id]}` : ""
        }`,
      })),
    // By value: callers build these maps afresh on each render.
    [definition, laid, JSON.stringify([statuses, problems, selected])],
  );
  // React Flow keeps each node's measured size on the node itself: a node handed over anew
  // without it is hidden until measured again, so new data is merged into the nodes held.
  const [nodes, setNodes, onNodesChange] = useNodesState<Node<StepData>>(built);
  useEffect(() => {
    setNodes((before) => {
      const held = new Map(before.map((node) => [node.id, node]));
      return built.map((node) => ({ ...held.get(node.id), ...node }));
    });
  }, [built, setNodes]);
  const edges: Edge[] = (definition.edges ?? []).map((edge) => ({
    id: edge.id,
    source: edge.source,
    target: edge.target,
    label: edge.sourceHandle ?? undefined,
    animated: statuses[edge.source] === "completed" && statuses[edge.target] === "running",
  }));
  return (
    <div className="graph" role="group" aria-label={label}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        onNodesChange={onNodesChange}
        nodeTypes={NODE_TYPES}
        fitView
        fitViewOptions={{ maxZoom: 1.2 }}
        minZoom={0.2}
        nodesDraggable={false}
        nodesConnectable={false}
        onNodeClick={(_, node) => onSelect?.(node.id)}
      >
        <Background />
        <Controls showInteractive={false} />
        <FitWhenMeasured count={nodes.length} />
      </ReactFlow>
    </div>
  );
}
