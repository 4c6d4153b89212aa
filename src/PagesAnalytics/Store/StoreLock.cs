using System.Text;

namespace PagesAnalytics.Store;

/// <summary>The store is being written by another writer.</summary>
public sealed class StoreLockedException : PagesException
{
    /// <summary>Creates the exception naming the holder, when known.</summary>
    public StoreLockedException(string directory, int? pid)
        : base(pid is { } p ? $"store is locked by pid {p} ({directory})" : $"store is locked by another writer ({directory})")
    {
        Pid = pid;
    }

    /// <summary>Process id of the writer holding the lock, when it could be read.</summary>
    public int? Pid { get; }
}

/// <summary>
/// One writer at a time: an OS record lock on <c>&lt;store&gt;/.lock</c>, which also holds the writer's pid so a
/// second writer can say who holds it. The lock dies with the process, so a killed writer never leaves it behind.
/// </summary>
internal sealed class StoreLock : IDisposable
{
    // Record locks belong to a process, not to a file handle: guard same-process writers separately.
    private static readonly HashSet<string> HeldInProcess = new(StringComparer.Ordinal);

    private readonly FileStream _file;
    private readonly string _key;

    private StoreLock(FileStream file, string key)
    {
        _file = file;
        _key = key;
    }

    public static StoreLock Acquire(string directory)
    {
        string path = Path.Combine(directory, ".lock");
        string key = Path.GetFullPath(path);
        lock (HeldInProcess)
        {
            if (!HeldInProcess.Add(key))
            {
                throw new StoreLockedException(directory, Environment.ProcessId);
            }
        }
        FileStream? file = null;
        try
        {
            // FileShare.ReadWrite so another process can still open the file to read the pid;
            // exclusivity comes from the byte-range lock below.
            if (OperatingSystem.IsMacOS())
            {
                // No byte-range locks there: an exclusive open (flock) still keeps writers apart.
                try
                {
                    file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                }
                catch (IOException)
                {
                    throw new StoreLockedException(directory, null);
                }
            }
            else
            {
                file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
                try
                {
                    file.Lock(0, 1);
                }
                catch (IOException)
                {
                    throw new StoreLockedException(directory, ReadPid(file));
                }
            }
            file.SetLength(0);
            file.Write(Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n"));
            file.Flush(flushToDisk: true);
            return new StoreLock(file, key);
        }
        catch
        {
            file?.Dispose();
            lock (HeldInProcess)
            {
                HeldInProcess.Remove(key);
            }
            throw;
        }
    }

    private static int? ReadPid(FileStream file)
    {
        try
        {
            file.Position = 0;
            var buffer = new byte[32];
            int n = file.Read(buffer);
            return int.TryParse(Encoding.ASCII.GetString(buffer, 0, n).Trim(), out int pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        // Closing the handle releases the lock.
        _file.Dispose();
        lock (HeldInProcess)
        {
            HeldInProcess.Remove(_key);
        }
    }
}
