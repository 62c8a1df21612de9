namespace Conduit.Runtime.Scheduling;

/// <summary>
/// The FIFO of one activation's tasks. A lock and a <see cref="Queue{T}"/> rather than a ConcurrentQueue: there is one
/// per activation and per observer, mostly idle, and a ConcurrentQueue's first segment alone takes about 600 bytes,
/// where an empty <see cref="Queue{T}"/> holds no array and grows only as far as the activation's backlog does. A
/// struct, kept inline in its scheduler: one object less per activation.
/// </summary>
internal readonly struct TaskQueue()
{
    private readonly Queue<Task> _tasks = new(); // also the lock (one object less per activation)

    /// <summary>Whether no task waits (under the lock, so it sees what other threads queued before).</summary>
    public bool IsEmpty
    {
        get
        {
            lock (_tasks)
            {
                return _tasks.Count == 0;
            }
        }
    }

    public void Enqueue(Task task)
    {
        lock (_tasks)
        {
            _tasks.Enqueue(task);
        }
    }

    public bool TryDequeue(out Task task)
    {
        lock (_tasks)
        {
            return _tasks.TryDequeue(out task!);
        }
    }

    public Task[] ToArray()
    {
        lock (_tasks)
        {
            return _tasks.ToArray();
        }
    }
}
